"""Follow-up of running pairs: the meetings a pair holds and short check-ins.

Both belong to a match and to the association running its programme
(``organisation_id``, copied from the match so scope filters need no join).
"""

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin, str_enum


class MeetingMode(StrEnum):
    IN_PERSON = "in_person"
    REMOTE = "remote"


class Concern(StrEnum):
    """A coded concern raised in a check-in (never free text: it may reach statistics)."""

    SCHEDULING = "scheduling"
    ENGAGEMENT = "engagement"
    COMMUNICATION = "communication"
    EXPECTATIONS = "expectations"
    WELLBEING = "wellbeing"
    SAFEGUARDING = "safeguarding"
    OTHER = "other"


class Meeting(IdMixin, TimestampMixin, Base):
    __tablename__ = "meetings"
    __table_args__ = (CheckConstraint("minutes BETWEEN 1 AND 1440", name="minutes_range"),)

    match_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("matches.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    held_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    mode: Mapped[MeetingMode] = mapped_column(str_enum(MeetingMode, 20))


class CheckIn(IdMixin, TimestampMixin, Base):
    __tablename__ = "check_ins"
    __table_args__ = (
        CheckConstraint("mentor_rating BETWEEN 1 AND 5", name="mentor_rating_range"),
        CheckConstraint("mentee_rating BETWEEN 1 AND 5", name="mentee_rating_range"),
        CheckConstraint(
            "mentor_rating IS NOT NULL OR mentee_rating IS NOT NULL", name="some_rating"
        ),
    )

    match_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("matches.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    held_on: Mapped[date] = mapped_column(Date)
    mentor_rating: Mapped[int | None] = mapped_column(Integer)
    mentee_rating: Mapped[int | None] = mapped_column(Integer)
    concern: Mapped[Concern | None] = mapped_column(str_enum(Concern, 20))
