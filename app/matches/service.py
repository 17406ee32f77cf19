"""Match lifecycle: who sees which match, the legal transitions and their history.

``proposed → accepted → active → closed`` and ``proposed → declined``; an accepted pair
that never met may also be closed. A proposal nobody accepts expires; a later committed
run allowed to reconsider unaccepted proposals supersedes it. Any other move is a 409.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from app.audit.service import Action, RecordType
from app.audit.service import record as audit
from app.auth.service import Caller
from app.consents import service as consents
from app.crud import get_visible
from app.db import utcnow
from app.errors import Conflict, Forbidden
from app.matches.models import (
    NEVER_AGAIN_CLOSE_REASONS,
    NEVER_AGAIN_DECLINE_REASONS,
    CloseReason,
    DeclineReason,
    Match,
    MatchEvent,
    MatchStatus,
)
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.vocabulary import Role
from app.webhooks import events
from app.webhooks.outbox import emit

TRANSITIONS: dict[MatchStatus, frozenset[MatchStatus]] = {
    MatchStatus.PROPOSED: frozenset(
        {
            MatchStatus.ACCEPTED,
            MatchStatus.DECLINED,
            MatchStatus.EXPIRED,
            MatchStatus.SUPERSEDED,
        }
    ),
    MatchStatus.ACCEPTED: frozenset({MatchStatus.ACTIVE, MatchStatus.CLOSED}),
    MatchStatus.ACTIVE: frozenset({MatchStatus.CLOSED}),
}
"""Legal moves; closed, declined, expired and superseded are final."""

ACTIONS = {
    MatchStatus.ACCEPTED: "accept",
    MatchStatus.ACTIVE: "start",
    MatchStatus.CLOSED: "close",
    MatchStatus.DECLINED: "decline",
}


def visible(caller: Caller) -> ColumnElement[bool] | None:
    """Admins see every match; an association the matches of its programmes and of the
    young people it refers; HR the matches of its employees (through a view without the
    young person)."""
    org = caller.organisation_id
    if caller.role is Role.ADMIN:
        return None
    if caller.role is Role.ASSOCIATION:
        referred = select(Mentee.id).where(Mentee.organisation_id == org)
        return or_(Match.organisation_id == org, Match.mentee_id.in_(referred))
    if caller.role is Role.COMPANY_HR:
        employees = select(Mentor.id).where(
            or_(consents.employer_confirmed(org), Mentor.organisation_id == org)
        )
        return Match.mentor_id.in_(employees)
    raise Forbidden("this role sees no individual match")


def may_act(caller: Caller, match: Match) -> bool:
    return caller.is_admin or (
        caller.role is Role.ASSOCIATION and match.organisation_id == caller.organisation_id
    )


def effective_status_is(status: MatchStatus, now: datetime) -> ColumnElement[bool]:
    """SQL filter on the status as of ``now`` (see ``Match.effective_status``)."""
    due = and_(
        Match.status == MatchStatus.PROPOSED,
        Match.expires_at.is_not(None),
        Match.expires_at <= now,
    )
    if status is MatchStatus.PROPOSED:
        return and_(Match.status == MatchStatus.PROPOSED, ~due)
    if status is MatchStatus.EXPIRED:
        return or_(Match.status == MatchStatus.EXPIRED, due)
    return Match.status == status


def holding_capacity(now: datetime) -> ColumnElement[bool]:
    """Matches that hold a unit of mentor and programme capacity as of ``now``."""
    return or_(
        Match.status.in_((MatchStatus.ACCEPTED, MatchStatus.ACTIVE)),
        effective_status_is(MatchStatus.PROPOSED, now),
    )


def refuse_young_person_filters(**filters: object) -> None:
    """HR sees of its employees' matches only that they exist and their status: a filter
    on the young person (who they are, their need, their department) would reveal, one
    value at a time, what the employer view leaves out."""
    refused = [name for name, value in filters.items() if value is not None]
    if refused:
        raise Forbidden(
            f"{', '.join(refused)}: "
            + ("this filter describes" if len(refused) == 1 else "these filters describe")
            + " the young person, whom company HR does not see; HR may filter its "
            "employees' matches by status, programme_id, mentor_id and run_id",
            extra={
                "errors": [
                    {
                        "field": f"query.{name}",
                        "message": "not allowed for company_hr: it filters on the young person",
                    }
                    for name in refused
                ]
            },
        )


def query(
    caller: Caller,
    *,
    status: MatchStatus | None = None,
    programme_id: uuid.UUID | None = None,
    department: str | None = None,
    mentor_id: uuid.UUID | None = None,
    mentee_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
    need: str | None = None,
) -> Select[tuple[Match]]:
    if caller.role is Role.COMPANY_HR:
        refuse_young_person_filters(mentee_id=mentee_id, need=need, department=department)
    stmt = select(Match).order_by(Match.proposed_at, Match.id)
    scope = visible(caller)
    if scope is not None:
        stmt = stmt.where(scope)
    if status is not None:
        stmt = stmt.where(effective_status_is(status, utcnow()))
    if department is not None:
        stmt = stmt.where(
            Match.mentee_id.in_(select(Mentee.id).where(Mentee.department == department))
        )
    for column, value in (
        (Match.programme_id, programme_id),
        (Match.mentor_id, mentor_id),
        (Match.mentee_id, mentee_id),
        (Match.run_id, run_id),
        (Match.need, need),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt


def get(session: Session, caller: Caller, match_id: uuid.UUID) -> Match:
    return get_visible(session, Match, match_id, visible(caller))


def history(session: Session, caller: Caller, match_id: uuid.UUID) -> Select[tuple[MatchEvent]]:
    if caller.role is Role.COMPANY_HR:
        raise Forbidden("the history of a match is kept for the association and admins")
    get(session, caller, match_id)
    stmt = select(MatchEvent).where(MatchEvent.match_id == match_id)
    return stmt.order_by(MatchEvent.at, MatchEvent.id)


def record(
    session: Session,
    match: Match,
    to_status: MatchStatus,
    *,
    actor: Caller | None,
    at: datetime | None = None,
    reason: str | None = None,
    note: str | None = None,
    run_id: uuid.UUID | None = None,
) -> MatchEvent:
    """Move ``match`` to ``to_status`` and write the history line.

    The move is a compare-and-set on the stored status: ``UPDATE … WHERE status = <the
    status read>``. Of several transactions that read the same status and move on from
    it, exactly one changes the row; the others raise :class:`StaleStatus` (a 409), on
    SQLite (whose reads take no row lock) as on PostgreSQL.
    """
    if to_status is not MatchStatus.PROPOSED:
        compare_and_set(session, match, to_status)
    event = MatchEvent(
        match_id=match.id,
        from_status=None if to_status is MatchStatus.PROPOSED else match.status,
        to_status=to_status,
        actor_key_id=actor.key_id if actor else None,
        actor_organisation_id=actor.organisation_id if actor else None,
        run_id=run_id,
        at=at or utcnow(),
        reason=reason,
        note=note,
    )
    match.status = to_status
    session.add(event)
    emit(session, events.MATCH_EVENTS[to_status], **events.match(session, match, reason))
    return event


class StaleStatus(Conflict):
    """The match changed status since it was read (a concurrent transition won)."""


def compare_and_set(session: Session, match: Match, to_status: MatchStatus) -> None:
    expected = match.status
    result = session.execute(
        update(Match)
        .where(Match.id == match.id, Match.status == expected)
        .values(status=to_status)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.expire(match)
        current = session.scalar(select(Match.status).where(Match.id == match.id))
        raise StaleStatus(
            f"this match is no longer {expected.value}"
            + (f" but {current.value}" if current else "")
            + ": another request changed it first",
            extra={"current_status": current.value if current else None},
        )


def _transition(
    session: Session,
    caller: Caller,
    match_id: uuid.UUID,
    to_status: MatchStatus,
    *,
    reason: str | None = None,
    note: str | None = None,
) -> Match:
    match = get_visible(session, Match, match_id, visible(caller), for_update=True)
    if not may_act(caller, match):
        raise Forbidden("only the association running the programme acts on this match")
    now = utcnow()
    current = match.effective_status
    if current is MatchStatus.EXPIRED and match.status is MatchStatus.PROPOSED:
        raise Conflict(
            f"this proposal expired at {match.expires_at:%Y-%m-%d %H:%M} UTC; "
            "a later run may propose the pair again",
            extra={"current_status": current.value, "allowed_actions": []},
        )
    allowed = TRANSITIONS.get(current, frozenset())
    actionable = sorted(ACTIONS[s] for s in allowed if s in ACTIONS)
    if to_status not in allowed:
        raise Conflict(
            f"cannot {ACTIONS[to_status]} a match that is {current.value}"
            + (f"; it can be: {', '.join(actionable)}" if actionable else "; it is final"),
            extra={"current_status": current.value, "allowed_actions": actionable},
        )
    record(session, match, to_status, actor=caller, at=now, reason=reason, note=note)
    audit(
        session,
        Action(ACTIONS[to_status]),
        RecordType.MATCH,
        match.id,
        organisation_id=match.organisation_id,
        actor=caller,
        at=now,
    )
    if to_status is MatchStatus.ACCEPTED:
        match.accepted_at = now
        match.expires_at = None
    elif to_status is MatchStatus.ACTIVE:
        match.started_at = now
    else:
        match.ended_at = now
        match.reason_note = note
    session.flush()
    return match


def accept(session: Session, caller: Caller, match_id: uuid.UUID, note: str | None) -> Match:
    return _transition(session, caller, match_id, MatchStatus.ACCEPTED, note=note)


def start(session: Session, caller: Caller, match_id: uuid.UUID, note: str | None) -> Match:
    """The first meeting was held: the match now counts as support for its need."""
    return _transition(session, caller, match_id, MatchStatus.ACTIVE, note=note)


def close(
    session: Session, caller: Caller, match_id: uuid.UUID, reason: CloseReason, note: str | None
) -> Match:
    match = _transition(
        session, caller, match_id, MatchStatus.CLOSED, reason=reason.value, note=note
    )
    match.close_reason = reason
    session.flush()
    return match


def decline(
    session: Session,
    caller: Caller,
    match_id: uuid.UUID,
    reason: DeclineReason,
    note: str | None,
) -> Match:
    match = _transition(
        session, caller, match_id, MatchStatus.DECLINED, reason=reason.value, note=note
    )
    match.decline_reason = reason
    session.flush()
    return match


def end_for_withdrawal(session: Session, actor: Caller, match: Match) -> None:
    """The volunteer left the pool: a proposal is declined (``unavailable``), an accepted
    or active match closed (``mentor_withdrew``); the history records who removed them."""
    now = utcnow()
    if match.status is MatchStatus.PROPOSED:
        reason = DeclineReason.UNAVAILABLE
        record(session, match, MatchStatus.DECLINED, actor=actor, at=now, reason=reason.value)
        match.decline_reason = reason
    else:
        close_reason = CloseReason.MENTOR_WITHDREW
        record(session, match, MatchStatus.CLOSED, actor=actor, at=now, reason=close_reason.value)
        match.close_reason = close_reason
    match.ended_at = now


def expire_due(session: Session, now: datetime | None = None) -> int:
    """Record as expired every proposal past its ``expires_at``; returns how many."""
    now = now or utcnow()
    stmt = (
        select(Match)
        .where(effective_status_is(MatchStatus.EXPIRED, now))
        .where(Match.status == MatchStatus.PROPOSED)
    )
    count = 0
    for match in session.scalars(stmt.with_for_update(skip_locked=True)):
        try:
            record(session, match, MatchStatus.EXPIRED, actor=None, at=now, reason="expired")
        except StaleStatus:  # accepted or declined meanwhile: not due any more
            continue
        audit(
            session,
            Action.EXPIRE,
            RecordType.MATCH,
            match.id,
            organisation_id=match.organisation_id,
            at=now,
        )
        match.ended_at = match.expires_at
        count += 1
    session.flush()
    return count


def never_again(
    session: Session, mentee_ids: Iterable[uuid.UUID] | None = None
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """Pairs that must never be proposed again: closed or declined for incompatibility
    or safeguarding."""
    stmt: Select[Any] = select(Match.mentee_id, Match.mentor_id).where(
        or_(
            and_(
                Match.status == MatchStatus.CLOSED,
                Match.close_reason.in_(NEVER_AGAIN_CLOSE_REASONS),
            ),
            and_(
                Match.status == MatchStatus.DECLINED,
                Match.decline_reason.in_(NEVER_AGAIN_DECLINE_REASONS),
            ),
        )
    )
    if mentee_ids is not None:
        stmt = stmt.where(Match.mentee_id.in_(list(mentee_ids)))
    return {(row[0], row[1]) for row in session.execute(stmt)}


def propose(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    mentee_id: uuid.UUID,
    mentor_id: uuid.UUID,
    programme_id: uuid.UUID,
    need: str,
    expires_at: datetime | None,
    distance_km: float | None = None,
    score: int | None = None,
    run_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Match:
    """A new ``proposed`` match (made by a committed run), with its first history line."""
    now = now or utcnow()
    match = Match(
        organisation_id=organisation_id,
        mentee_id=mentee_id,
        mentor_id=mentor_id,
        programme_id=programme_id,
        need=need,
        status=MatchStatus.PROPOSED,
        distance_km=distance_km,
        score=score,
        run_id=run_id,
        proposed_at=now,
        expires_at=expires_at,
    )
    session.add(match)
    session.flush()
    record(session, match, MatchStatus.PROPOSED, actor=None, at=now, run_id=run_id)
    audit(
        session, Action.CREATE, RecordType.MATCH, match.id, organisation_id=organisation_id, at=now
    )
    session.flush()
    return match
