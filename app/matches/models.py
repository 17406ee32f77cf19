"""A match is one young person paired with one mentor, in one programme, for one need.

It is tenant-scoped by the programme's association (``organisation_id``): the association
running the programme acts on it. Every status change is a :class:`MatchEvent`.
"""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin, UtcDateTime, str_enum, utcnow


class MatchStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    ACTIVE = "active"
    CLOSED = "closed"
    DECLINED = "declined"
    EXPIRED = "expired"
    """A proposal nobody accepted before ``expires_at``; its capacity is free again."""
    SUPERSEDED = "superseded"
    """A proposal replaced (or withdrawn) by a later committed run that was allowed to
    reconsider unaccepted proposals (``keep_running: false``)."""


RUNNING_STATUSES = (MatchStatus.PROPOSED, MatchStatus.ACCEPTED, MatchStatus.ACTIVE)
"""Statuses that hold a unit of mentor and programme capacity (a proposal only until it
expires)."""
ENGAGED_STATUSES = (MatchStatus.ACCEPTED, MatchStatus.ACTIVE)


class CloseReason(StrEnum):
    COMPLETED = "completed"
    MENTEE_WITHDREW = "mentee_withdrew"
    MENTOR_WITHDREW = "mentor_withdrew"
    INCOMPATIBILITY = "incompatibility"
    MOVED_AWAY = "moved_away"
    SAFEGUARDING = "safeguarding"
    OTHER = "other"


class DeclineReason(StrEnum):
    INCOMPATIBILITY = "incompatibility"
    MENTEE_DECLINED = "mentee_declined"
    MENTOR_DECLINED = "mentor_declined"
    UNAVAILABLE = "unavailable"
    ALREADY_SUPPORTED = "already_supported"
    SAFEGUARDING = "safeguarding"
    OTHER = "other"


NEVER_AGAIN_CLOSE_REASONS = (CloseReason.INCOMPATIBILITY, CloseReason.SAFEGUARDING)
NEVER_AGAIN_DECLINE_REASONS = (DeclineReason.INCOMPATIBILITY, DeclineReason.SAFEGUARDING)
"""A pair closed or declined for one of these reasons is never proposed again."""


class Match(IdMixin, TimestampMixin, Base):
    __tablename__ = "matches"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    # Erasing a young person or a volunteer unlinks the pairs they were part of: the
    # match stays as an anonymous record (programme, need, dates, coded reasons) for the
    # statistics and the history, its notes erased (see app.privacy.erasure).
    mentee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("mentees.id", ondelete="SET NULL"), index=True
    )
    mentor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("mentors.id", ondelete="SET NULL"), index=True
    )
    programme_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("programmes.id", ondelete="RESTRICT"), index=True
    )
    run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("matching_runs.id", ondelete="SET NULL"), index=True
    )
    need: Mapped[str] = mapped_column(String(40))
    status: Mapped[MatchStatus] = mapped_column(str_enum(MatchStatus, 20), index=True)
    distance_km: Mapped[float | None] = mapped_column(Float)
    score: Mapped[int | None] = mapped_column(Integer)
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, doc="when it was closed, declined, expired or superseded"
    )
    close_reason: Mapped[CloseReason | None] = mapped_column(str_enum(CloseReason, 30))
    decline_reason: Mapped[DeclineReason | None] = mapped_column(str_enum(DeclineReason, 30))
    reason_note: Mapped[str | None] = mapped_column(Text)

    def is_expired(self, now: datetime | None = None) -> bool:
        return (
            self.status is MatchStatus.PROPOSED
            and self.expires_at is not None
            and self.expires_at <= (now or utcnow())
        )

    @property
    def effective_status(self) -> MatchStatus:
        """The status as of now: a proposal past its expiry reads as expired even before
        the sweeper records it."""
        return MatchStatus.EXPIRED if self.is_expired() else self.status


class MatchEvent(IdMixin, Base):
    """One status change of a match: who (API key and organisation; none for the system),
    when, and why."""

    __tablename__ = "match_events"

    match_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("matches.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[MatchStatus | None] = mapped_column(str_enum(MatchStatus, 20))
    to_status: Mapped[MatchStatus] = mapped_column(str_enum(MatchStatus, 20))
    actor_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    actor_organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
