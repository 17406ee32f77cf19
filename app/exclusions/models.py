"""A never-again pair declared directly: this young person and this volunteer are never
proposed to each other (safeguarding, a known incompatibility, a conflict of interest),
without a match ever having been proposed and declined."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, UtcDateTime, str_enum, utcnow


class ExclusionReason(StrEnum):
    SAFEGUARDING = "safeguarding"
    INCOMPATIBILITY = "incompatibility"
    CONFLICT_OF_INTEREST = "conflict_of_interest"
    """A family tie, the same household, a hierarchical or professional relationship."""
    OTHER = "other"


class Exclusion(IdMixin, Base):
    __tablename__ = "exclusions"

    # Erasing either person erases the pair (nothing remains to exclude).
    mentee_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentees.id", ondelete="CASCADE"), index=True
    )
    mentor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentors.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[ExclusionReason] = mapped_column(str_enum(ExclusionReason, 30))
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    """Who declared it: an admin's organisation or the referring association."""
    declared_by_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
