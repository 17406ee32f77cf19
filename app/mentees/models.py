import uuid
from datetime import date

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, JsonList, TimestampMixin, str_enum
from app.locations import LocatedMixin
from app.programmes.models import Programme
from app.vocabulary import Activity, RuralZone

mentee_programmes = Table(
    "mentee_programmes",
    Base.metadata,
    Column("mentee_id", ForeignKey("mentees.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "programme_id",
        ForeignKey("programmes.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Mentee(IdMixin, TimestampMixin, LocatedMixin, Base):
    """A young person, with the minimum the matching needs: a birth year, not a birth date;
    a commune, not an address. ``organisation_id`` is the referring association."""

    __tablename__ = "mentees"
    __table_args__ = (
        UniqueConstraint("organisation_id", "external_id"),
        CheckConstraint("max_travel_km >= 0", name="travel_positive"),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(100))
    birth_year: Mapped[int] = mapped_column(Integer)
    qpv: Mapped[bool] = mapped_column(Boolean, default=False)
    rural_zone: Mapped[RuralZone] = mapped_column(
        str_enum(RuralZone, 10),
        default=RuralZone.NONE,
    )
    activity: Mapped[Activity] = mapped_column(str_enum(Activity, 30))
    needs: Mapped[list[str]] = mapped_column(JsonList)
    languages: Mapped[list[str]] = mapped_column(JsonList)
    remote_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    max_travel_km: Mapped[int] = mapped_column(Integer)
    waiting_since: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)

    programmes: Mapped[list[Programme]] = relationship(
        secondary=mentee_programmes, lazy="selectin", order_by=Programme.id
    )

    @property
    def programme_ids(self) -> list[uuid.UUID]:
        return [programme.id for programme in self.programmes]
