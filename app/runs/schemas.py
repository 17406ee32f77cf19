import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, computed_field, field_validator

from app.fields import DepartmentCode
from app.runs.models import ProposalChange, RunMode, RunPhase, RunStatus

MAX_RUN_DATE_AHEAD_DAYS = 366

RUN_EXAMPLE: dict[str, Any] = {
    "departments": ["93"],
    "mode": "dry_run",
    "policy": {"objective": "lexicographic", "weights": {"qpv": 150}},
    "keep_running": True,
}


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [RUN_EXAMPLE]})

    programme_ids: list[uuid.UUID] = Field(
        default=[],
        max_length=500,
        description="programmes to match; empty: every active programme the caller runs "
        "(all of them for an admin)",
    )
    departments: list[DepartmentCode] = Field(
        default=[],
        max_length=101,
        description="keep only programmes covering one of these departments, and young "
        "people living in them",
    )
    run_date: date | None = Field(
        default=None,
        description="the day the run matches for (ages, background-check validity and "
        "active supports are evaluated on it): today by default, not in the past, at most "
        f"{MAX_RUN_DATE_AHEAD_DAYS} days ahead (e.g. to preview the September intake)",
    )
    mode: RunMode = Field(
        default=RunMode.DRY_RUN,
        description="dry_run: proposals to review, no match written; commit: proposals "
        "become matches with status proposed",
    )
    policy: dict[str, Any] = Field(
        default={},
        description="engine policy overrides: objective, weights (each 0..1000), "
        "distance_half_km, waiting_cap_days, max_candidates_per_mentee, mip_time_limit_s, "
        "pricing (complete the shortlist: the optimum over every option), stability "
        "(0..1000: points a reconsidered pair earns by being proposed again)",
    )
    keep_running: bool = Field(
        default=True,
        description="true: running matches, unaccepted proposals included, stay as they are "
        "and hold their capacity; false: unaccepted proposals of the scope's programmes are "
        "reconsidered (kept, replaced or withdrawn). Accepted and active matches stay, "
        "unless break_running_pairs.",
    )
    break_running_pairs: bool = Field(
        default=False,
        description="with keep_running false only: accepted and active matches of the "
        "scope's programmes are reconsidered too; a committed run closes those it does not "
        "propose again (reason other). For a full rematch; try it as a dry run first.",
    )

    @field_validator("break_running_pairs")
    @classmethod
    def _breaking_needs_reconsidering(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("keep_running", True):
            raise ValueError("needs keep_running false: running matches cannot both stay and break")
        return value


class RunTimings(BaseModel):
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    queued_seconds: float | None
    duration_seconds: float | None = Field(description="from started_at to finished_at")
    phases: dict[str, float] | None = Field(
        description="seconds spent queued, loading, solving and writing (succeeded runs)"
    )


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organisation_id: uuid.UUID
    requested_by_key_id: uuid.UUID | None
    mode: RunMode
    status: RunStatus
    run_date: date
    requested_programme_ids: list[uuid.UUID]
    departments: list[str]
    programme_ids: list[uuid.UUID] = Field(description="the programmes the scope resolved to")
    policy: dict[str, Any]
    keep_running: bool
    break_running_pairs: bool
    phase: RunPhase
    progress: int = Field(description="percentage")
    cancel_requested: bool
    waiting_for_worker: bool = Field(
        default=False,
        description="queued while no worker is alive to execute it (PostgreSQL: no "
        "`binome worker` sent a queue heartbeat lately); start one",
    )
    worker: str | None
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None
    stats: dict[str, Any] | None = Field(description="engine statistics and timings")
    diff: dict[str, Any] | None = Field(
        description="against the matches before the run: new, kept, replaces (counts), "
        "withdrawn (match ids), untouched (running matches of the scope left as they are), "
        "changes (each reconsidered pair not proposed again: mentee_id, mentor_id, "
        "programme_id, need, accepted, reason — no_longer_feasible, capacity_reduced, "
        "coverage_gained or score_gained — and mentor_id_now)"
    )
    error: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def timings(self) -> RunTimings:
        def seconds(start: datetime | None, end: datetime | None) -> float | None:
            return round((end - start).total_seconds(), 3) if start and end else None

        return RunTimings(
            created_at=self.created_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
            queued_seconds=seconds(self.created_at, self.started_at),
            duration_seconds=seconds(self.started_at, self.finished_at),
            phases=(self.stats or {}).get("phases"),
        )


class ProposalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    run_id: uuid.UUID
    position: int
    mentee_id: uuid.UUID | None = Field(
        description="null for a young person the caller does not refer (see mentee_disclosed)"
    )
    mentee_disclosed: bool = Field(
        default=True,
        description="false: a young person referred by another organisation; the proposal "
        "shows only what is needed to act on it (need, commune, age band, distance), and "
        "the record reaches the programme's association through a committed match",
    )
    mentee_commune: str | None = Field(default=None, description="INSEE code of the commune")
    mentee_age_band: str | None = Field(
        default=None, description="age on the run date: under_15, 15_17, 18_25, 26_plus"
    )
    mentor_id: uuid.UUID
    programme_id: uuid.UUID
    need: str
    meeting_mode: str | None = Field(description="in_person or remote")
    distance_km: float | None
    score: int | None = Field(description="null when the young person is not disclosed")
    score_breakdown: dict[str, int] | None = Field(
        description="null when the young person is not disclosed (it reveals their situation)"
    )
    change: ProposalChange
    previous_match_id: uuid.UUID | None = Field(
        description="the earlier proposal this one keeps or replaces"
    )
    match_id: uuid.UUID | None = Field(description="committed runs: the match it made")
    skipped: str | None = Field(
        description="committed runs: why no match was made (data changed while solving)"
    )


class UnmatchedRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    run_id: uuid.UUID
    mentee_id: uuid.UUID
    reason: str = Field(
        description="no_programme, no_mentor_in_reach, no_background_checked_mentor, "
        "no_compatible_mentor, capacity_exhausted, all_needs_supported"
    )
    sentence: str
    candidates: int = Field(description="feasible options that existed (capacity_exhausted)")


class DiffCounts(BaseModel):
    new: int = Field(description="proposals for pairs that did not exist")
    kept: int = Field(description="earlier unaccepted proposals proposed again, kept as is")
    replaces: int = Field(description="proposals replacing an earlier unaccepted proposal")
    withdrawn: int = Field(description="earlier unaccepted proposals neither kept nor replaced")
    untouched: int = Field(
        description="running matches of the scope the run left as they are (held capacity)"
    )


class DiffEntry(BaseModel):
    change: str = Field(description="new, kept, replaces or withdrawn")
    proposal_id: uuid.UUID | None = Field(description="the run's proposal (not for withdrawn)")
    match_id: uuid.UUID | None = Field(
        description="the match made or kept; for withdrawn, the earlier proposal withdrawn"
    )
    previous_match_id: uuid.UUID | None = Field(
        description="the earlier proposal this one keeps or replaces"
    )
    mentee_id: uuid.UUID
    mentor_id: uuid.UUID
    programme_id: uuid.UUID
    need: str


class DiffRead(BaseModel):
    """The counts of each change, and one page of the entries."""

    run_id: uuid.UUID
    counts: DiffCounts
    items: list[DiffEntry]
    total: int
    limit: int
    offset: int
