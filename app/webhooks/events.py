"""What each event says and who may receive it: the subjects services pass to ``emit``.

Each function returns the keyword arguments of ``emit`` (``audience`` and ``data``, both
lazy), so that a service's hook is one line:
``emit(session, EventType.MATCH_ACCEPTED, **events.match(session, match))``.
"""

import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from app.imports.models import ImportReport
from app.matches.models import Match, MatchStatus
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.runs.models import MatchingRun, RunStatus
from app.webhooks.outbox import emit
from app.webhooks.vocabulary import EventType

MATCH_EVENTS = {
    MatchStatus.PROPOSED: EventType.MATCH_PROPOSED,
    MatchStatus.ACCEPTED: EventType.MATCH_ACCEPTED,
    MatchStatus.ACTIVE: EventType.MATCH_STARTED,
    MatchStatus.CLOSED: EventType.MATCH_CLOSED,
    MatchStatus.DECLINED: EventType.MATCH_DECLINED,
    MatchStatus.EXPIRED: EventType.MATCH_EXPIRED,
    MatchStatus.SUPERSEDED: EventType.MATCH_SUPERSEDED,
}

RUN_EVENTS = {
    RunStatus.SUCCEEDED: EventType.RUN_SUCCEEDED,
    RunStatus.FAILED: EventType.RUN_FAILED,
    RunStatus.CANCELLED: EventType.RUN_CANCELLED,
}


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def match(session: Session, match: Match, reason: str | None = None) -> dict[str, Any]:
    """Who reads a match: the association running its programme and the one referring
    the young person (``app.matches.service.visible``)."""

    def audience() -> list[uuid.UUID | None]:
        mentee = session.get(Mentee, match.mentee_id)
        return [match.organisation_id, mentee.organisation_id if mentee else None]

    def data() -> dict[str, Any]:
        mentee = session.get(Mentee, match.mentee_id)
        mentor = session.get(Mentor, match.mentor_id)
        return {
            "match": {
                "id": str(match.id),
                "status": match.status.value,
                "programme_id": str(match.programme_id),
                "organisation_id": str(match.organisation_id),
                "mentee_id": str(match.mentee_id),
                "mentee_external_id": mentee.external_id if mentee else None,
                "mentor_id": str(match.mentor_id),
                "mentor_external_id": mentor.external_id if mentor else None,
                "need": match.need,
                "run_id": _str(match.run_id),
            },
            "reason": reason,
        }

    return {"audience": audience, "data": data}


def run(run: MatchingRun) -> dict[str, Any]:
    """Who reads a run: the organisation that requested it."""

    def data() -> dict[str, Any]:
        diff = run.diff or {}
        return {
            "run": {
                "id": str(run.id),
                "status": run.status.value,
                "mode": run.mode.value,
                "organisation_id": str(run.organisation_id),
                "programme_ids": list(run.programme_ids),
                "departments": list(run.departments),
                "error": run.error,
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "diff": {
                    "new": diff.get("new"),
                    "kept": diff.get("kept"),
                    "replaces": diff.get("replaces"),
                    "withdrawn": len(diff.get("withdrawn") or []),
                }
                if diff
                else None,
            }
        }

    return {"audience": lambda: [run.organisation_id], "data": data}


def import_report(report: ImportReport) -> dict[str, Any]:
    """Who reads an import report: the organisation whose records it imported."""

    def data() -> dict[str, Any]:
        return {
            "import": {
                "id": str(report.id),
                "kind": report.kind.value,
                "mode": report.mode.value,
                "status": report.status.value,
                "organisation_id": str(report.organisation_id),
                "counts": {
                    "rows": report.rows,
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "deactivated": report.deactivated,
                    "rejected": report.rejected,
                },
            }
        }

    return {"audience": [report.organisation_id], "data": data}


def erasure(mentee: Mentee) -> dict[str, Any]:
    """Who hears of an erasure: the association that referred the young person (so that
    it erases its own copy); the event carries the record's id only — its external id
    would otherwise outlive the erasure in the delivery log."""
    data = {"mentee_id": str(mentee.id), "organisation_id": str(mentee.organisation_id)}
    return {"audience": [mentee.organisation_id], "data": data}


@event.listens_for(MatchingRun.status, "set")
def _run_finished(target: MatchingRun, value: RunStatus, old: object, _: object) -> None:
    """Every way a run ends (its executor, a cancellation, the stale-run sweep) sets its
    status: the event is emitted there, in the transaction that records the end."""
    if value in RUN_EVENTS and value != old:
        session = object_session(target)
        if session is not None:
            emit(session, RUN_EVENTS[value], **run(target))
