"""Consent to links made across organisations.

A volunteer submitted by one organisation may be enrolled in another's programme, and an
association may name a company as a volunteer's employer. Neither link binds the other
side until it agrees: an enrolment counts (runs use it) once the programme's association
confirms it, an employer link (the company's HR sees the record) once that company's HR
confirms it. A link within one organisation needs no confirmation.

A confirmation names both ends of the link: if the link changes (another employer), the
old confirmation no longer applies.

Safeguarding follows the same rule: a background check declared on a record counts for
the minors of a programme of the same organisation; for another organisation's
programme, only once that programme's association (or an admin) confirms it.
"""

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UtcDateTime, utcnow


class EnrolmentConfirmation(Base):
    __tablename__ = "enrolment_confirmations"

    mentor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentors.id", ondelete="CASCADE"), primary_key=True
    )
    programme_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    confirmed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    confirmed_by_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )


class EmployerConfirmation(Base):
    __tablename__ = "employer_confirmations"

    mentor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentors.id", ondelete="CASCADE"), primary_key=True
    )
    employer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    confirmed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    confirmed_by_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )


class BackgroundCheckConfirmation(Base):
    """The programme's association (or an admin) vouches for the volunteer's background
    check until ``valid_until``: a check declared by another organisation (the record's
    owner) counts for the programme's minors only then, and only up to that date — if
    the record later declares a later date, the programme's side confirms again."""

    __tablename__ = "background_check_confirmations"

    mentor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentors.id", ondelete="CASCADE"), primary_key=True
    )
    programme_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    valid_until: Mapped[date] = mapped_column(Date)
    confirmed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    confirmed_by_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
