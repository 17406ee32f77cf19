import uuid
from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin


class Support(IdMixin, TimestampMixin, Base):
    """Support a young person already receives, from any actor, for one need.

    ``organisation_id`` is who recorded it (tenant); ``provider_id`` who provides it.
    A support declared by identity alone has no ``mentee_id``: it applies to every record
    of that identity (``app.identity``). ``external_id`` is the provider's own reference
    (what a bulk import upserts by).
    """

    __tablename__ = "supports"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        UniqueConstraint("provider_id", "external_id"),
        # The same support recorded twice would count twice; the service answers 409.
        UniqueConstraint("mentee_id", "need", "provider_id", "start_date"),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    mentee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("mentees.id", ondelete="CASCADE"), index=True
    )
    provider_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    programme_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("programmes.id", ondelete="SET NULL"), index=True
    )
    need: Mapped[str] = mapped_column(String(40))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    external_id: Mapped[str | None] = mapped_column(String(100))
