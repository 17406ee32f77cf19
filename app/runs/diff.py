"""A run's diff against the matches that existed when it started, one page at a time.

The entries are the run's proposals (``new``, ``kept``, ``replaces``), in proposal order,
then the earlier proposals it ``withdrew``; a national run has tens of thousands, so they
are paged (and streamed as CSV by ``app.exports``), never sent as one document.
"""

import uuid
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.matches.models import Match
from app.runs.models import MatchingRun, ProposalChange, RunProposal
from app.runs.schemas import DiffCounts, DiffEntry


class DiffChange(StrEnum):
    NEW = "new"
    KEPT = "kept"
    REPLACES = "replaces"
    WITHDRAWN = "withdrawn"


WITHDRAWN = DiffChange.WITHDRAWN.value


def counts(run: MatchingRun) -> DiffCounts:
    if run.diff is None:
        raise Conflict(
            f"run {run.id} is {run.status.value}: a diff exists once it succeeded",
            extra={"current_status": run.status.value},
        )
    return DiffCounts(
        new=run.diff["new"],
        kept=run.diff["kept"],
        replaces=run.diff["replaces"],
        withdrawn=len(run.diff["withdrawn"]),
        untouched=run.diff["untouched"],
    )


def _proposals(run_id: uuid.UUID, change: str | None) -> Any:
    stmt = select(RunProposal).where(RunProposal.run_id == run_id)
    if change is not None:
        stmt = stmt.where(RunProposal.change == ProposalChange(change))
    return stmt.order_by(RunProposal.position)


def _proposal_entry(proposal: RunProposal) -> DiffEntry:
    return DiffEntry(
        change=proposal.change.value,
        proposal_id=proposal.id,
        match_id=proposal.match_id,
        previous_match_id=proposal.previous_match_id,
        mentee_id=proposal.mentee_id,
        mentor_id=proposal.mentor_id,
        programme_id=proposal.programme_id,
        need=proposal.need,
    )


def _withdrawn_entries(session: Session, ids: list[str]) -> list[DiffEntry]:
    wanted = [uuid.UUID(i) for i in ids]
    found = {m.id: m for m in session.scalars(select(Match).where(Match.id.in_(wanted)))}
    return [
        DiffEntry(
            change=WITHDRAWN,
            proposal_id=None,
            match_id=match.id,
            previous_match_id=None,
            mentee_id=match.mentee_id,
            mentor_id=match.mentor_id,
            programme_id=match.programme_id,
            need=match.need,
        )
        for match_id in wanted
        if (match := found.get(match_id)) is not None  # erased since
    ]


def page(
    session: Session, run: MatchingRun, change: str | None, limit: int, offset: int
) -> tuple[list[DiffEntry], int]:
    """One page of entries, and how many there are in all."""
    counts(run)
    withdrawn: list[str] = [] if change not in (None, WITHDRAWN) else run.diff["withdrawn"]  # type: ignore[index]
    proposals = _proposals(run.id, None if change == WITHDRAWN else change)
    n_proposals = 0
    if change != WITHDRAWN:
        n_proposals = int(
            session.scalar(select(func.count()).select_from(proposals.order_by(None).subquery()))
            or 0
        )
    entries = []
    if offset < n_proposals:
        rows = session.scalars(proposals.limit(limit).offset(offset))
        entries = [_proposal_entry(p) for p in rows]
    rest = limit - len(entries)
    if rest > 0:
        start = max(0, offset - n_proposals)
        entries += _withdrawn_entries(session, withdrawn[start : start + rest])
    return entries, n_proposals + len(withdrawn)


def every_entry(session: Session, run: MatchingRun, batch: int = 2000) -> Iterator[DiffEntry]:
    """All entries, read ``batch`` rows at a time (constant memory)."""
    counts(run)
    stmt = _proposals(run.id, None).execution_options(yield_per=batch)
    for proposal in session.scalars(stmt):
        yield _proposal_entry(proposal)
    withdrawn: list[str] = run.diff["withdrawn"]  # type: ignore[index]
    for start in range(0, len(withdrawn), batch):
        yield from _withdrawn_entries(session, withdrawn[start : start + batch])
