"""Writing what a run produced, in one transaction: proposals, unmatched young people and,
for committed runs, the matches — each re-checked against the data as committed."""

import dataclasses
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app import matching
from app.audit.models import AuditEntry
from app.audit.service import Action, RecordType
from app.db import BULK_BATCH_ROWS, analyze, bulk_insert, in_values, utcnow
from app.exclusions.service import excluded_pairs
from app.matches import service as matches
from app.matches.models import CloseReason, Match, MatchEvent, MatchStatus
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.programmes.models import Programme
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
from app.runs.snapshot import PriorMatch, Snapshot
from app.webhooks import events
from app.webhooks.outbox import emit, wanted
from app.webhooks.vocabulary import EventType


@dataclasses.dataclass
class _Planned:
    proposal: matching.Proposal
    change: ProposalChange
    previous: PriorMatch | None


def plan_changes(
    snapshot: Snapshot, result: matching.MatchingResult
) -> tuple[list[_Planned], list[PriorMatch]]:
    """Each proposal against the matches before the run, and the unaccepted proposals
    the run withdraws (reconsidered, neither proposed again nor replaced)."""
    by_pair = {(m.mentee_id, m.mentor_id, m.programme_id, m.need): m for m in snapshot.reconsidered}
    by_mentee: dict[uuid.UUID, PriorMatch] = {}
    for m in snapshot.reconsidered:
        by_mentee.setdefault(m.mentee_id, m)
    planned: list[_Planned] = []
    used: set[uuid.UUID] = set()
    for p in result.proposals:
        key = (uuid.UUID(p.mentee_id), uuid.UUID(p.mentor_id), uuid.UUID(p.programme_id), p.need)
        same = by_pair.get(key)
        earlier = by_mentee.get(key[0])
        if same is not None:
            planned.append(_Planned(p, ProposalChange.KEPT, same))
            used.add(same.id)
        elif earlier is not None and earlier.id not in used:
            planned.append(_Planned(p, ProposalChange.REPLACES, earlier))
            used.add(earlier.id)
        else:
            planned.append(_Planned(p, ProposalChange.NEW, None))
    withdrawn = [m for m in snapshot.reconsidered if m.id not in used]
    return planned, withdrawn


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
        total = max(1, 2 * len(planned) * int(commit) + len(planned) + len(result.unmatched))
        done = 0

        def advance(rows: int) -> Callable[[], None]:
            def report() -> None:
                nonlocal done
                done += min(rows, BULK_BATCH_ROWS)
                if progress is not None:
                    progress(min(1.0, done / total))

            return report

        if commit:
            written["expired"] = matches.expire_due(session, now)
            replaced = {
                pl.previous.id
                for pl in planned
                if pl.change is ProposalChange.REPLACES and pl.previous
            }
            releasable = replaced | {m.id for m in withdrawn}
            released, skipped = _release_plan(session, snapshot, planned, releasable, now)
            for match in session.scalars(
                select(Match).where(in_values(Match.id, sorted(released))).with_for_update()
            ):
                why = "replaced" if match.id in replaced else "withdrawn"
                released_as = _release(session, match, why, run.id, now)
                if released_as is not None:
                    written[released_as] += 1
            session.flush()
            expires_at = now + timedelta(days=options.proposal_expiry_days)
            new_matches: list[dict[str, Any]] = []
            for index, pl in enumerate(planned):
                if index in skipped:
                    written["skipped"] += 1
                    continue
                if pl.change is ProposalChange.KEPT and pl.previous is not None:
                    match_ids[index] = pl.previous.id
                    written["kept"] += 1
                    continue
                p = pl.proposal
                programme_id = uuid.UUID(p.programme_id)
                match_ids[index] = uuid.uuid4()
                new_matches.append(
                    {
                        "id": match_ids[index],
                        "organisation_id": snapshot.organisations[programme_id],
                        "mentee_id": uuid.UUID(p.mentee_id),
                        "mentor_id": uuid.UUID(p.mentor_id),
                        "programme_id": programme_id,
                        "need": p.need,
                        "status": MatchStatus.PROPOSED,
                        "distance_km": round(p.distance_km, 3),
                        "score": p.score,
                        "run_id": run.id,
                        "proposed_at": now,
                        "expires_at": expires_at,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            written["created"] = len(new_matches)
            bulk_insert(
                session,
                Match.__table__,  # type: ignore[arg-type]
                new_matches,
                between_batches=advance(len(new_matches)),
            )
            # Each new match in the audit log, created by the system (the run), in bulk.
            bulk_insert(
                session,
                AuditEntry.__table__,  # type: ignore[arg-type]
                [
                    {
                        "id": uuid.uuid4(),
                        "at": now,
                        "actor_key_id": None,
                        "actor_organisation_id": None,
                        "organisation_id": m["organisation_id"],
                        "action": Action.CREATE.value,
                        "record_type": RecordType.MATCH.value,
                        "record_id": m["id"],
                        "counts": None,
                    }
                    for m in new_matches
                ],
                between_batches=advance(len(new_matches)),
            )
            # Written in bulk, not through ``matches.record``: its webhook events too.
            if wanted(session, EventType.MATCH_PROPOSED):
                for row in new_matches:
                    emit(session, EventType.MATCH_PROPOSED, **events.match(session, Match(**row)))
            # The first history line of each new match, as ``matches.record`` writes it.
            bulk_insert(
                session,
                MatchEvent.__table__,  # type: ignore[arg-type]
                [
                    {
                        "id": uuid.uuid4(),
                        "match_id": m["id"],
                        "from_status": None,
                        "to_status": MatchStatus.PROPOSED,
                        "actor_key_id": None,
                        "actor_organisation_id": None,
                        "run_id": run.id,
                        "at": now,
                        "reason": None,
                        "note": None,
                    }
                    for m in new_matches
                ],
                between_batches=advance(len(new_matches)),
            )
        bulk_insert(
            session,
            RunProposal.__table__,  # type: ignore[arg-type]
            [
                {
                    "id": uuid.uuid4(),
                    "run_id": run.id,
                    "position": index,
                    "mentee_id": uuid.UUID(pl.proposal.mentee_id),
                    "mentor_id": uuid.UUID(pl.proposal.mentor_id),
                    "programme_id": uuid.UUID(pl.proposal.programme_id),
                    "need": pl.proposal.need,
                    "meeting_mode": pl.proposal.mode,
                    "distance_km": round(pl.proposal.distance_km, 3),
                    "score": pl.proposal.score,
                    "score_breakdown": dataclasses.asdict(pl.proposal.score_terms),
                    "change": pl.change,
                    "previous_match_id": pl.previous.id if pl.previous else None,
                    "match_id": match_ids.get(index),
                    "skipped": skipped.get(index),
                }
                for index, pl in enumerate(planned)
            ],
            between_batches=advance(len(planned)),
        )
        bulk_insert(
            session,
            RunUnmatched.__table__,  # type: ignore[arg-type]
            [
                {
                    "id": uuid.uuid4(),
                    "run_id": run.id,
                    "position": index,
                    "mentee_id": uuid.UUID(u.mentee_id),
                    "reason": u.reason,
                    "sentence": u.message,
                    "candidates": u.candidates,
                }
                for index, u in enumerate(result.unmatched)
            ],
            between_batches=advance(len(result.unmatched)),
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


def _release_plan(
    session: Session,
    snapshot: Snapshot,
    planned: list[_Planned],
    releasable: set[uuid.UUID],
    now: datetime,
) -> tuple[set[uuid.UUID], dict[int, str]]:
    """The earlier matches to end (among ``releasable``: replaced or withdrawn by the
    plan), and the proposals to skip, against the data as it is now. An earlier match is
    only ended if the plan still holds around it: kept when its replacement is skipped,
    and no running pair is broken at all once any proposal is skipped (the rematch that
    justified it is no longer the one written). Keeping a match holds its capacity, which
    may skip more proposals: repeated until stable."""
    kept: set[uuid.UUID] = set()
    running = {m.id for m in snapshot.reconsidered if m.status is not MatchStatus.PROPOSED}
    while True:
        released = releasable - kept
        skipped = revalidate(session, snapshot, planned, released, now)
        keep = {
            pl.previous.id
            for index, pl in enumerate(planned)
            if index in skipped and pl.change is ProposalChange.REPLACES and pl.previous
        }
        if skipped:
            keep |= running
        if keep <= kept:
            return released, skipped
        kept |= keep


def _release(
    session: Session, match: Match, why: str, run_id: uuid.UUID, now: datetime
) -> str | None:
    """End a reconsidered match the run did not propose again: an unaccepted proposal is
    superseded; an accepted or active one (``break_running_pairs``) is closed."""
    status = match.effective_status
    if status is MatchStatus.PROPOSED:
        matches.record(
            session, match, MatchStatus.SUPERSEDED, actor=None, at=now, reason=why, run_id=run_id
        )
        match.ended_at = now
        return "superseded"
    if status in (MatchStatus.ACCEPTED, MatchStatus.ACTIVE):
        note = f"broken by matching run {run_id} (break_running_pairs): {why}"
        matches.record(
            session,
            match,
            MatchStatus.CLOSED,
            actor=None,
            at=now,
            reason=CloseReason.OTHER.value,
            note=note,
            run_id=run_id,
        )
        match.close_reason = CloseReason.OTHER
        match.reason_note = note
        match.ended_at = now
        return "broken"
    return None  # ended meanwhile (closed, declined, expired): nothing to release


def revalidate(
    session: Session,
    snapshot: Snapshot,
    planned: list[_Planned],
    released: set[uuid.UUID],
    now: datetime,
) -> dict[int, str]:
    """Proposals that no longer hold against the data as it is now (edited while the run
    solved, or taken by a run of another scope): position → reason. Checked under the
    write lock, so the state cannot move again before the commit."""
    new = [(i, pl.proposal) for i, pl in enumerate(planned) if pl.change is not ProposalChange.KEPT]
    if not new:
        return {}
    mentee_ids = sorted({uuid.UUID(p.mentee_id) for _, p in new})
    mentor_ids = sorted({uuid.UUID(p.mentor_id) for _, p in new})
    programme_ids = sorted({uuid.UUID(p.programme_id) for _, p in new})
    active_mentees = set(
        session.scalars(
            select(Mentee.id).where(in_values(Mentee.id, mentee_ids), Mentee.active.is_(True))
        )
    )
    mentor_capacity = dict(
        session.execute(
            select(Mentor.id, Mentor.capacity).where(
                in_values(Mentor.id, mentor_ids), Mentor.active.is_(True)
            )
        )
        .tuples()
        .all()
    )
    programme_capacity = dict(
        session.execute(
            select(Programme.id, Programme.capacity).where(
                in_values(Programme.id, programme_ids), Programme.active.is_(True)
            )
        )
        .tuples()
        .all()
    )
    holding = [
        m
        for m in session.execute(
            select(Match.id, Match.mentee_id, Match.mentor_id, Match.programme_id, Match.need)
            .where(matches.holding_capacity(now))
            .where(
                in_values(Match.mentee_id, mentee_ids)
                | in_values(Match.mentor_id, mentor_ids)
                | in_values(Match.programme_id, programme_ids)
            )
        )
        if m.id not in released
    ]
    kept_ids = {
        pl.previous.id for pl in planned if pl.change is ProposalChange.KEPT and pl.previous
    }
    mentor_load = Counter(m.mentor_id for m in holding)
    programme_load = Counter(m.programme_id for m in holding)
    taken_needs = {(m.mentee_id, m.need) for m in holding if m.id not in kept_ids}
    in_run = set(mentee_ids)
    never = matches.never_again(session) | excluded_pairs(session)
    excluded = {pair for pair in never if pair[0] in in_run}
    skipped: dict[int, str] = {}
    checks: list[tuple[str, Callable[[uuid.UUID, uuid.UUID, uuid.UUID, str], bool]]] = [
        ("mentee_inactive", lambda me, _mo, _pr, _n: me in active_mentees),
        ("mentor_inactive", lambda _me, mo, _pr, _n: mo in mentor_capacity),
        ("programme_inactive", lambda _me, _mo, pr, _n: pr in programme_capacity),
        ("already_matched", lambda me, _mo, _pr, n: (me, n) not in taken_needs),
        ("excluded_pair", lambda me, mo, _pr, _n: (me, mo) not in excluded),
        ("mentor_capacity", lambda _me, mo, _pr, _n: mentor_load[mo] < mentor_capacity[mo]),
        (
            "programme_capacity",
            lambda _me, _mo, pr, _n: programme_load[pr] < programme_capacity[pr],
        ),
    ]
    for index, p in sorted(new, key=lambda item: -item[1].score):
        key = (uuid.UUID(p.mentee_id), uuid.UUID(p.mentor_id), uuid.UUID(p.programme_id), p.need)
        failed = next((name for name, ok in checks if not ok(*key)), None)
        if failed is not None:
            skipped[index] = failed
            continue
        mentor_load[key[1]] += 1
        programme_load[key[2]] += 1
        taken_needs.add((key[0], key[3]))
    return skipped
