from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin, str_enum
from app.vocabulary import OrganisationKind


class Organisation(IdMixin, TimestampMixin, Base):
    """An association, a company or a public body: the tenant that owns records."""

    __tablename__ = "organisations"

    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[OrganisationKind] = mapped_column(str_enum(OrganisationKind, 20))
    siret: Mapped[str | None] = mapped_column(String(14), unique=True)
