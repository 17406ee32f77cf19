"""Erasing a young person or a volunteer, with every copy of their data.

What goes: the record itself and everything keyed on it (supports, programme links, the
runs' proposals and unmatched lines), and every echo of the person's values — the rows of
import reports (and of their ``errors.csv``) that named them, the stored responses of
idempotent imports, the free-text notes of their matches and of the matches' history.

What stays, anonymous: each match they were part of (programme, need, dates, coded
reasons, distance and score) with its history of status changes, no longer linked to the
person; the runs' aggregate statistics; and one audit entry ``erase <type> <id>`` — the
tombstone, which names a random id that nothing links to a person any more.

A running match of the person ends with the erasure: a proposal is declined, an accepted
or active match closed, with the coded reason that the person withdrew.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.audit.service import Action, RecordType
from app.audit.service import record as audit
from app.db import utcnow
from app.imports.models import IdempotencyKey, ImportReport
from app.imports.vocabulary import ImportKind
from app.matches import service as matches
from app.matches.models import CloseReason, DeclineReason, Match, MatchEvent, MatchStatus
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.runs.models import RunProposal, RunUnmatched

ERASED = "[erased]"
ERASED_MESSAGE = "[erased: this row named a person whose data was erased]"
ERASURE_REASON = "erased"
"""The reason recorded in a match's history when it ended because a person was erased."""


@dataclass(frozen=True)
class _Person:
    record_type: RecordType
    column: Any  # Match.mentee_id or Match.mentor_id
    import_kind: ImportKind
    close_reason: CloseReason
    decline_reason: DeclineReason


MENTEE = _Person(
    RecordType.MENTEE,
    Match.mentee_id,
    ImportKind.MENTEES,
    CloseReason.MENTEE_WITHDREW,
    DeclineReason.MENTEE_DECLINED,
)
MENTOR = _Person(
    RecordType.MENTOR,
    Match.mentor_id,
    ImportKind.MENTORS,
    CloseReason.MENTOR_WITHDREW,
    DeclineReason.MENTOR_DECLINED,
)


def erase_mentee(session: Session, mentee: Mentee, *, action: Action = Action.ERASE) -> None:
    session.execute(delete(RunProposal).where(RunProposal.mentee_id == mentee.id))
    session.execute(delete(RunUnmatched).where(RunUnmatched.mentee_id == mentee.id))
    _erase(session, MENTEE, mentee, action)


def erase_mentor(session: Session, mentor: Mentor, *, action: Action = Action.ERASE) -> None:
    session.execute(delete(RunProposal).where(RunProposal.mentor_id == mentor.id))
    _erase(session, MENTOR, mentor, action)


def _erase(session: Session, person: _Person, record: Mentee | Mentor, action: Action) -> None:
    record_id, organisation_id = record.id, record.organisation_id
    _end_running_matches(session, person, record_id)
    match_ids = select(Match.id).where(person.column == record_id).scalar_subquery()
    session.execute(update(MatchEvent).where(MatchEvent.match_id.in_(match_ids)).values(note=None))
    session.execute(
        update(Match)
        .where(person.column == record_id)
        # Unlinking is not activity of the other person (retention reads updated_at).
        .values({person.column.key: None, "reason_note": None, "updated_at": Match.updated_at})
        .execution_options(synchronize_session=False)
    )
    scrub_import_reports(session, organisation_id, person.import_kind, record.external_id)
    session.delete(record)
    audit(session, action, person.record_type, record_id, organisation_id=organisation_id)
    session.flush()


def _end_running_matches(session: Session, person: _Person, record_id: uuid.UUID) -> None:
    now = utcnow()
    running = session.scalars(
        select(Match)
        .where(person.column == record_id)
        .where(Match.status.in_((MatchStatus.PROPOSED, MatchStatus.ACCEPTED, MatchStatus.ACTIVE)))
        .with_for_update()
    )
    for match in running:
        if match.status is MatchStatus.PROPOSED:
            matches.record(
                session, match, MatchStatus.DECLINED, actor=None, at=now, reason=ERASURE_REASON
            )
            match.decline_reason = person.decline_reason
        else:
            matches.record(
                session, match, MatchStatus.CLOSED, actor=None, at=now, reason=ERASURE_REASON
            )
            match.close_reason = person.close_reason
        match.ended_at = now
    session.flush()


# --- Import reports and the stored responses of idempotent imports.


def scrub_import_reports(
    session: Session, organisation_id: uuid.UUID, kind: ImportKind, external_id: str
) -> int:
    """Replace, in every report of ``organisation_id``'s ``kind`` imports, each row that
    names ``external_id`` (every error of that row: its other cells are the person's
    too) by a neutral line; then the stored idempotent responses of those imports.
    Returns the number of reports changed."""
    reports = session.scalars(
        select(ImportReport).where(
            ImportReport.organisation_id == organisation_id,
            ImportReport.kind == kind,
            ImportReport.rejected > 0,
        )
    )
    changed: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for report in reports:
        errors = scrub_errors(report.errors, external_id)
        if errors is not None:
            report.errors = errors
            changed[report.id] = errors
    if changed:
        keys = session.scalars(
            select(IdempotencyKey).where(IdempotencyKey.import_id.in_(list(changed)))
        )
        for key in keys:
            if key.response_body is not None and key.import_id is not None:
                key.response_body = {**key.response_body, "errors": changed[key.import_id]}
    # Any other stored response (a file-level error, a report since deleted) that still
    # echoes the id has its strings scrubbed in place.
    for key in session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.response_body.is_not(None))
    ):
        body = key.response_body
        if body is not None and _mentions(body, external_id):
            key.response_body = _scrub_strings(body, external_id)
    session.flush()
    return len(changed)


def scrub_errors(errors: list[dict[str, Any]], external_id: str) -> list[dict[str, Any]] | None:
    """The errors with every row naming ``external_id`` neutralised; ``None`` if no row
    does."""
    rows = {error.get("row") for error in errors if _names(error, external_id)}
    if not rows:
        return None
    scrubbed: list[dict[str, Any]] = []
    for error in errors:
        if error.get("row") not in rows:
            scrubbed.append(error)
            continue
        line: dict[str, Any] = {k: error[k] for k in ("row", "column", "field") if k in error}
        scrubbed.append({**line, "message": ERASED_MESSAGE})
    return scrubbed


def _names(error: dict[str, Any], external_id: str) -> bool:
    """The error is about ``external_id``'s row (exactly, not a longer id containing it)."""
    return error.get("external_id") == external_id or repr(external_id) in str(
        error.get("message", "")
    )


def _mentions(value: Any, needle: str) -> bool:
    if isinstance(value, str):
        return needle in value
    if isinstance(value, dict):
        return any(_mentions(v, needle) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, needle) for v in value)
    return False


def _scrub_strings(value: Any, needle: str) -> Any:
    if isinstance(value, str):
        return ERASED if needle in value else value
    if isinstance(value, dict):
        return {k: _scrub_strings(v, needle) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_strings(v, needle) for v in value]
    return value
