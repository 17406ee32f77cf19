"""A run's plan against the matches before it, re-checked against the data as committed.

:func:`plan_changes` pairs each proposal with what it keeps or replaces; under the
results writer's lock, :func:`release_plan` and :func:`revalidate` drop what no longer
holds (edited while the run solved, taken by another run), and :func:`release` ends the
earlier matches the run replaces or withdraws.
"""

import dataclasses
import uuid
from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import matching
from app.db import in_values
from app.exclusions.service import excluded_pairs
from app.matches import service as matches
from app.matches.models import CloseReason, Match, MatchStatus
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.programmes.models import Programme
from app.runs.models import ProposalChange
from app.runs.snapshot import PriorMatch, Snapshot


@dataclasses.dataclass(slots=True)
class Planned:
    proposal: matching.Proposal
    change: ProposalChange
    previous: PriorMatch | None
    key: tuple[uuid.UUID, uuid.UUID, uuid.UUID, str]
    """The proposal's young person, volunteer, programme (parsed once) and need."""


def plan_changes(
    snapshot: Snapshot, result: matching.MatchingResult
) -> tuple[list[Planned], list[PriorMatch]]:
    """Each proposal against the matches before the run, and the unaccepted proposals
    the run withdraws (reconsidered, neither proposed again nor replaced)."""
    by_pair = {(m.mentee_id, m.mentor_id, m.programme_id, m.need): m for m in snapshot.reconsidered}
    by_mentee: dict[uuid.UUID, PriorMatch] = {}
    for m in snapshot.reconsidered:
        by_mentee.setdefault(m.mentee_id, m)
    # Volunteers and programmes recur across proposals: each id is parsed once.
    parsed: dict[str, uuid.UUID] = {}

    def as_uuid(value: str) -> uuid.UUID:
        found = parsed.get(value)
        if found is None:
            found = parsed[value] = uuid.UUID(value)
        return found

    planned: list[Planned] = []
    used: set[uuid.UUID] = set()
    for p in result.proposals:
        key = (uuid.UUID(p.mentee_id), as_uuid(p.mentor_id), as_uuid(p.programme_id), p.need)
        same = by_pair.get(key)
        earlier = by_mentee.get(key[0])
        if same is not None:
            planned.append(Planned(p, ProposalChange.KEPT, same, key))
            used.add(same.id)
        elif earlier is not None and earlier.id not in used:
            planned.append(Planned(p, ProposalChange.REPLACES, earlier, key))
            used.add(earlier.id)
        else:
            planned.append(Planned(p, ProposalChange.NEW, None, key))
    withdrawn = [m for m in snapshot.reconsidered if m.id not in used]
    return planned, withdrawn


def release_plan(
    session: Session,
    snapshot: Snapshot,
    planned: list[Planned],
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


def release(
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
    planned: list[Planned],
    released: set[uuid.UUID],
    now: datetime,
) -> dict[int, str]:
    """Proposals that no longer hold against the data as it is now (edited while the run
    solved, or taken by a run of another scope): position → reason. Checked under the
    write lock, so the state cannot move again before the commit."""
    new = [(i, pl) for i, pl in enumerate(planned) if pl.change is not ProposalChange.KEPT]
    if not new:
        return {}
    mentee_ids = sorted({pl.key[0] for _, pl in new})
    mentor_ids = sorted({pl.key[1] for _, pl in new})
    programme_ids = sorted({pl.key[2] for _, pl in new})
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
    # Best scores first: of proposals competing for the same capacity, they keep it.
    for index, pl in sorted(new, key=lambda item: -item[1].proposal.score):
        mentee, mentor, programme, need = pl.key
        if mentee not in active_mentees:
            skipped[index] = "mentee_inactive"
        elif mentor not in mentor_capacity:
            skipped[index] = "mentor_inactive"
        elif programme not in programme_capacity:
            skipped[index] = "programme_inactive"
        elif (mentee, need) in taken_needs:
            skipped[index] = "already_matched"
        elif (mentee, mentor) in excluded:
            skipped[index] = "excluded_pair"
        elif mentor_load[mentor] >= mentor_capacity[mentor]:
            skipped[index] = "mentor_capacity"
        elif programme_load[programme] >= programme_capacity[programme]:
            skipped[index] = "programme_capacity"
        else:
            mentor_load[mentor] += 1
            programme_load[programme] += 1
            taken_needs.add((mentee, need))
    return skipped
