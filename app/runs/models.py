"""Matching runs and what they produced (proposals, unmatched young people).

A run's results are written in one transaction at its end: a run that crashes leaves
no proposal, no unmatched row and no match behind.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, JsonList, UtcDateTime, str_enum, utcnow


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)
FINAL_RUN_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


class RunMode(StrEnum):
    DRY_RUN = "dry_run"
    COMMIT = "commit"


class RunPhase(StrEnum):
    QUEUED = "queued"
    WAITING = "waiting"
    """Claimed by an executor but waiting for an overlapping run to finish."""
    LOADING = "loading"
    SOLVING = "solving"
    WRITING = "writing"
    DONE = "done"


class ProposalChange(StrEnum):
    """How a proposal compares with the matches that existed when the run started."""

    NEW = "new"
    KEPT = "kept"
    """The same pair was already proposed and is proposed again: the match stays."""
    REPLACES = "replaces"
    """It replaces an unaccepted proposal of the same young person for the same need."""


class MatchingRun(IdMixin, Base):
    __tablename__ = "matching_runs"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    requested_by_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    mode: Mapped[RunMode] = mapped_column(str_enum(RunMode, 10))
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus, 12), index=True)
    run_date: Mapped[date] = mapped_column(Date)
    # Scope as requested, and the programmes it resolved to at submission.
    requested_programme_ids: Mapped[list[str]] = mapped_column(JsonList)
    departments: Mapped[list[str]] = mapped_column(JsonList)
    programme_ids: Mapped[list[str]] = mapped_column(JsonList)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    keep_running: Mapped[bool] = mapped_column(Boolean, default=True)
    break_running_pairs: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    phase: Mapped[RunPhase] = mapped_column(str_enum(RunPhase, 12))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    diff: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(200))
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def cancel_requested(self) -> bool:
        return self.cancel_requested_at is not None


class RunProposal(IdMixin, Base):
    """A pair proposed by a run. In a committed run, ``match_id`` is the match it created
    or kept."""

    __tablename__ = "run_proposals"
    # A page of proposals is a range of this index (the list is in position order).
    __table_args__ = (Index("ix_run_proposals_run_id_position", "run_id", "position"),)

    # Looked up through the (run_id, position) index.
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("matching_runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    mentee_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentees.id", ondelete="CASCADE"), index=True
    )
    mentor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentors.id", ondelete="CASCADE"), index=True
    )
    programme_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    need: Mapped[str] = mapped_column(String(40))
    meeting_mode: Mapped[str | None] = mapped_column(String(20))
    distance_km: Mapped[float | None] = mapped_column(Float)
    score: Mapped[int] = mapped_column(Integer)
    score_breakdown: Mapped[dict[str, Any]] = mapped_column(JSON)
    change: Mapped[ProposalChange] = mapped_column(str_enum(ProposalChange, 12))
    previous_match_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("matches.id", ondelete="SET NULL")
    )
    match_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("matches.id", ondelete="SET NULL"), index=True
    )
    skipped: Mapped[str | None] = mapped_column(
        String(40),
        doc="why a committed run made no match of it: the data changed while it solved",
    )


class RunUnmatched(IdMixin, Base):
    """A young person of the run's scope left without a proposal, and why."""

    __tablename__ = "run_unmatched"
    __table_args__ = (Index("ix_run_unmatched_run_id_position", "run_id", "position"),)

    # Looked up through the (run_id, position) index.
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("matching_runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    mentee_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentees.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(60))
    sentence: Mapped[str] = mapped_column(Text)
    candidates: Mapped[int] = mapped_column(
        Integer, default=0, doc="feasible options that existed (capacity_exhausted only)"
    )
