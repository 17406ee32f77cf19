"""Writing what a run produced, in one transaction: proposals, unmatched young people and,
for committed runs, the matches — each re-checked against the data as committed (see
``app.runs.planning``)."""

import dataclasses
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app import matching
from app.audit.models import AuditEntry
from app.audit.service import Action, RecordType
from app.db import analyze, in_values, utcnow
from app.matches import service as matches
from app.matches.models import Match, MatchEvent, MatchStatus
from app.runs.bulk import write_rows
from app.runs.locks import lock_writes
from app.runs.models import (
    MatchingRun,
    ProposalChange,
    RunMode,
    RunPhase,
    RunProposal,
    RunStatus,
    RunUnmatched,
)
from app.runs.options import Cancelled, ExecutionOptions
from app.runs.planning import Planned, plan_changes, release, release_plan
from app.runs.snapshot import PriorMatch, Snapshot
from app.webhooks import events
from app.webhooks.outbox import emit, wanted
from app.webhooks.vocabulary import EventType

MATCH_COLUMNS = (
    "id",
    "organisation_id",
    "mentee_id",
    "mentor_id",
    "programme_id",
    "need",
    "status",
    "distance_km",
    "score",
    "run_id",
    "proposed_at",
    "expires_at",
    "created_at",
    "updated_at",
)
AUDIT_COLUMNS = (
    "id",
    "at",
    "actor_key_id",
    "actor_organisation_id",
    "organisation_id",
    "action",
    "record_type",
    "record_id",
    "counts",
)
EVENT_COLUMNS = (
    "id",
    "match_id",
    "from_status",
    "to_status",
    "actor_key_id",
    "actor_organisation_id",
    "run_id",
    "at",
    "reason",
    "note",
)
PROPOSAL_COLUMNS = (
    "id",
    "run_id",
    "position",
    "mentee_id",
    "mentor_id",
    "programme_id",
    "need",
    "meeting_mode",
    "distance_km",
    "score",
    "score_breakdown",
    "change",
    "previous_match_id",
    "match_id",
    "skipped",
)
UNMATCHED_COLUMNS = ("id", "run_id", "position", "mentee_id", "reason", "sentence", "candidates")
SCORE_TERMS = tuple(f.name for f in dataclasses.fields(matching.ScoreBreakdown))


def new_ids(count: int) -> list[uuid.UUID]:
    """``count`` random (version 4) UUIDs, from one read of the system's random source
    rather than one per id."""
    pool = os.urandom(16 * count)
    return [uuid.UUID(bytes=pool[i : i + 16], version=4) for i in range(0, 16 * count, 16)]


def write_results(
    engine: Engine,
    run_id: uuid.UUID,
    snapshot: Snapshot,
    result: matching.MatchingResult,
    options: ExecutionOptions,
    *,
    progress: Callable[[float], None] | None = None,
    phases: dict[str, float] | None = None,
) -> str:
    """Everything the run produced, in one transaction (or nothing, if cancelled).

    Rows go in bulk (``COPY`` on PostgreSQL, ``executemany`` batches on SQLite);
    ``progress`` is called between batches with the fraction written (it raises
    :class:`Cancelled` to stop: the transaction is rolled back). The run's own row is only
    updated at the very end, conditionally (still running, no cancellation requested), so
    the heartbeat keeps beating while the rows are written."""
    started = time.monotonic()
    planned, withdrawn = plan_changes(snapshot, result)
    commit = False
    with Session(engine) as session:
        lock_writes(session)
        run = session.get(MatchingRun, run_id, populate_existing=True)
        if run is None or run.status is not RunStatus.RUNNING:
            session.rollback()
            return run.status.value if run else "gone"
        if run.cancel_requested_at is not None:
            raise Cancelled
        commit = run.mode is RunMode.COMMIT
        now = utcnow()
        written: Counter[str] = Counter()
        skipped: dict[int, str] = {}
        match_ids: dict[int, uuid.UUID] = {}
        creating = sum(pl.change is not ProposalChange.KEPT for pl in planned) if commit else 0
        # Rows to write: each new match thrice (match, audit entry, history line).
        total = max(1, 3 * creating + len(planned) + len(result.unmatched))
        done = 0

        def advance(rows: int) -> None:
            nonlocal done
            done += rows
            if progress is not None:
                progress(min(1.0, done / total))

        advance(0)
        if commit:
            skipped, match_ids = _write_matches(
                session, run.id, snapshot, planned, withdrawn, options, now, written, advance
            )
        write_rows(
            session,
            _table(RunProposal),
            PROPOSAL_COLUMNS,
            _proposal_rows(run.id, planned, match_ids, skipped),
            json_columns=("score_breakdown",),
            between_batches=advance,
        )
        unmatched_ids = new_ids(len(result.unmatched))
        write_rows(
            session,
            _table(RunUnmatched),
            UNMATCHED_COLUMNS,
            (
                (
                    unmatched_ids[index],
                    run.id,
                    index,
                    uuid.UUID(u.mentee_id),
                    u.reason,
                    u.message,
                    u.candidates,
                )
                for index, u in enumerate(result.unmatched)
            ),
            between_batches=advance,
        )

        changes = Counter(pl.change.value for pl in planned)
        finished = utcnow()
        timings = dict(phases or {})
        timings["writing"] = round(time.monotonic() - started, 3)
        ended = session.execute(
            update(MatchingRun)
            .where(
                MatchingRun.id == run_id,
                MatchingRun.status == RunStatus.RUNNING,
                MatchingRun.cancel_requested_at.is_(None),
            )
            .values(
                diff={
                    "new": changes[ProposalChange.NEW.value],
                    "kept": changes[ProposalChange.KEPT.value],
                    "replaces": changes[ProposalChange.REPLACES.value],
                    "withdrawn": [str(m.id) for m in withdrawn],
                    "untouched": len(snapshot.kept),
                    # Why each reconsidered pair was not proposed again (engine's reasons).
                    "changes": [dataclasses.asdict(c) for c in result.changes],
                },
                stats={
                    **dataclasses.asdict(result.stats),
                    "snapshot": snapshot.counts,
                    "timings": dataclasses.asdict(result.timings),
                    "phases": timings,
                    "written": dict(written),
                },
                status=RunStatus.SUCCEEDED,
                phase=RunPhase.DONE,
                progress=100,
                finished_at=finished,
            )
            .execution_options(synchronize_session=False)
        )
        if ended.rowcount != 1:  # type: ignore[attr-defined]
            # Cancelled or taken for dead while writing: nothing of it is kept.
            session.rollback()
            current = session.get(MatchingRun, run_id, populate_existing=True)
            if current is not None and current.status is RunStatus.RUNNING:
                raise Cancelled
            return current.status.value if current else "gone"
        # The end was written by one statement (a compare-and-set), not by setting the
        # ORM attribute that emits run events: emitted here, in the same transaction.
        ended_run = session.get(MatchingRun, run_id, populate_existing=True)
        if ended_run is not None and wanted(session, EventType.RUN_SUCCEEDED):
            emit(session, EventType.RUN_SUCCEEDED, **events.run(ended_run))
        session.commit()
    if commit:
        analyze(engine, Match.__table__, MatchEvent.__table__)  # type: ignore[arg-type]
    analyze(engine, RunProposal.__table__, RunUnmatched.__table__)  # type: ignore[arg-type]
    return RunStatus.SUCCEEDED.value


def _write_matches(
    session: Session,
    run_id: uuid.UUID,
    snapshot: Snapshot,
    planned: list[Planned],
    withdrawn: list[PriorMatch],
    options: ExecutionOptions,
    now: datetime,
    written: Counter[str],
    advance: Callable[[int], None],
) -> tuple[dict[int, str], dict[int, uuid.UUID]]:
    """A committed run's matches: due proposals expired, the earlier matches it replaces
    or withdraws ended, the new ones created with their audit entry and first history
    line. Returns the proposals skipped (position → why) and each proposal's match."""
    written["expired"] = matches.expire_due(session, now)
    replaced = {
        pl.previous.id for pl in planned if pl.change is ProposalChange.REPLACES and pl.previous
    }
    releasable = replaced | {m.id for m in withdrawn}
    released, skipped = release_plan(session, snapshot, planned, releasable, now)
    for match in session.scalars(
        select(Match).where(in_values(Match.id, sorted(released))).with_for_update()
    ):
        why = "replaced" if match.id in replaced else "withdrawn"
        released_as = release(session, match, why, run_id, now)
        if released_as is not None:
            written[released_as] += 1
    session.flush()  # the rows below go past the ORM: its changes are sent first
    expires_at = now + timedelta(days=options.proposal_expiry_days)
    match_ids: dict[int, uuid.UUID] = {}
    created: list[int] = []
    for index, pl in enumerate(planned):
        if index in skipped:
            written["skipped"] += 1
        elif pl.change is ProposalChange.KEPT and pl.previous is not None:
            match_ids[index] = pl.previous.id
            written["kept"] += 1
        else:
            created.append(index)
    for index, match_id in zip(created, new_ids(len(created)), strict=True):
        match_ids[index] = match_id
    written["created"] = len(created)
    proposed = MatchStatus.PROPOSED.value
    organisations = snapshot.organisations

    def match_rows() -> Iterator[tuple[Any, ...]]:
        for index in created:
            p, (mentee_id, mentor_id, programme_id, need) = (
                planned[index].proposal,
                planned[index].key,
            )
            yield (
                match_ids[index],
                organisations[programme_id],
                mentee_id,
                mentor_id,
                programme_id,
                need,
                proposed,
                round(p.distance_km, 3),
                p.score,
                run_id,
                now,
                expires_at,
                now,
                now,
            )

    write_rows(session, _table(Match), MATCH_COLUMNS, match_rows(), between_batches=advance)
    # Each new match in the audit log, created by the system (the run), in bulk.
    create, record_type = Action.CREATE.value, RecordType.MATCH.value

    def audit_rows() -> Iterator[tuple[Any, ...]]:
        for index, entry_id in zip(created, new_ids(len(created)), strict=True):
            organisation_id = organisations[planned[index].key[2]]
            match_id = match_ids[index]
            yield (entry_id, now, None, None, organisation_id, create, record_type, match_id, None)

    write_rows(session, _table(AuditEntry), AUDIT_COLUMNS, audit_rows(), between_batches=advance)
    # Written in bulk, not through ``matches.record``: its webhook events too.
    if wanted(session, EventType.MATCH_PROPOSED):
        for row in match_rows():
            match = Match(**dict(zip(MATCH_COLUMNS, row, strict=True)))
            match.status = MatchStatus.PROPOSED
            emit(session, EventType.MATCH_PROPOSED, **events.match(session, match))
    # The first history line of each new match, as ``matches.record`` writes it.
    write_rows(
        session,
        _table(MatchEvent),
        EVENT_COLUMNS,
        (
            (event_id, match_ids[index], None, proposed, None, None, run_id, now, None, None)
            for index, event_id in zip(created, new_ids(len(created)), strict=True)
        ),
        between_batches=advance,
    )
    return skipped, match_ids


def _proposal_rows(
    run_id: uuid.UUID,
    planned: list[Planned],
    match_ids: dict[int, uuid.UUID],
    skipped: dict[int, str],
) -> Iterator[tuple[Any, ...]]:
    for index, (pl, row_id) in enumerate(zip(planned, new_ids(len(planned)), strict=True)):
        p, previous, terms = pl.proposal, pl.previous, pl.proposal.score_terms
        mentee_id, mentor_id, programme_id, need = pl.key
        yield (
            row_id,
            run_id,
            index,
            mentee_id,
            mentor_id,
            programme_id,
            need,
            p.mode,
            round(p.distance_km, 3),
            p.score,
            # ``dataclasses.asdict`` deep-copies: the flat terms read directly.
            {name: getattr(terms, name) for name in SCORE_TERMS},
            pl.change.value,
            previous.id if previous else None,
            match_ids.get(index),
            skipped.get(index),
        )


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)
