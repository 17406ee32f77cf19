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
from app.vocabulary import MentorKind

mentor_programmes = Table(
    "mentor_programmes",
    Base.metadata,
    Column("mentor_id", ForeignKey("mentors.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "programme_id",
        ForeignKey("programmes.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Mentor(IdMixin, TimestampMixin, LocatedMixin, Base):
    """A volunteer. ``organisation_id`` is who submitted the record (tenant)."""

    __tablename__ = "mentors"
    __table_args__ = (
        UniqueConstraint("organisation_id", "external_id"),
        CheckConstraint("capacity BETWEEN 1 AND 5", name="capacity_range"),
        CheckConstraint("max_travel_km >= 0", name="travel_positive"),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[MentorKind] = mapped_column(str_enum(MentorKind, 20))
    employer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    max_travel_km: Mapped[int] = mapped_column(Integer)
    remote_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    skills: Mapped[list[str]] = mapped_column(JsonList)
    languages: Mapped[list[str]] = mapped_column(JsonList)
    background_check_valid_until: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)

    programmes: Mapped[list[Programme]] = relationship(
        secondary=mentor_programmes, lazy="selectin", order_by=Programme.id
    )

    @property
    def programme_ids(self) -> list[uuid.UUID]:
        return [programme.id for programme in self.programmes]
