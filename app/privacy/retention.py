"""Retention: people with no activity for ``retention_days`` are erased, by ``binome
purge`` (a dry run unless ``--apply``) and periodically by the run executors'
housekeeping; audit entries older than ``audit_retention_days`` are deleted.

A person's last activity is the latest of: a change to their record (creation, an update
through the API or an import that changed it), a change to one of their matches (a
proposal, a transition, its closure) and, for a young person, a change to one of their
supports. A running match (proposed and unexpired, accepted or active) or a support
without an end, or ending after the cut-off, is activity as of now. Erasure is the one
of ``app.privacy.erasure``: closed matches stay as anonymous statistics.
"""

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, not_, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from app.audit import service as audit
from app.config import get_settings
from app.db import utcnow
from app.matches import service as matches
from app.matches.models import Match
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.privacy.erasure import erase_mentee, erase_mentor
from app.supports.models import Support

logger = logging.getLogger("binome.retention")


@dataclass
class PurgeReport:
    cutoff: datetime
    applied: bool
    mentees: list[uuid.UUID] = field(default_factory=list)
    mentors: list[uuid.UUID] = field(default_factory=list)
    audit_entries: int = 0

    def summary(self) -> str:
        verb = "erased" if self.applied else "would erase"
        line = (
            f"no activity since {self.cutoff:%Y-%m-%d}: {verb} {len(self.mentees)} young "
            f"people and {len(self.mentors)} volunteers, and {self.audit_entries} audit "
            "entries past their retention"
        )
        return line if self.applied else line + " (dry run: add --apply to erase)"


def _match_activity(
    column: Any, record_id: object, now: datetime, cutoff: datetime
) -> ColumnElement[bool]:
    return exists().where(
        column == record_id,
        or_(Match.updated_at >= cutoff, matches.holding_capacity(now)),
    )


def mentee_inactive(now: datetime, cutoff: datetime) -> ColumnElement[bool]:
    supported = exists().where(
        Support.mentee_id == Mentee.id,
        or_(
            Support.updated_at >= cutoff,
            Support.end_date.is_(None),
            Support.end_date >= cutoff.date(),
        ),
    )
    return and_(
        Mentee.updated_at < cutoff,
        not_(_match_activity(Match.mentee_id, Mentee.id, now, cutoff)),
        not_(supported),
    )


def mentor_inactive(now: datetime, cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        Mentor.updated_at < cutoff,
        not_(_match_activity(Match.mentor_id, Mentor.id, now, cutoff)),
    )


def purge(
    session: Session,
    *,
    apply: bool,
    retention_days: int | None = None,
    audit_retention_days: int | None = None,
    now: datetime | None = None,
) -> PurgeReport:
    """Erase (``apply``) or list the people due, selected and locked in one statement
    (on PostgreSQL, rows another transaction holds are left for the next pass).
    Flushes, never commits."""
    settings = get_settings()
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days or settings.retention_days)
    report = PurgeReport(cutoff=cutoff, applied=apply)
    mentees = select(Mentee).where(mentee_inactive(now, cutoff)).order_by(Mentee.id)
    mentors = select(Mentor).where(mentor_inactive(now, cutoff)).order_by(Mentor.id)
    if apply:
        for mentee in session.scalars(mentees.with_for_update(skip_locked=True)).all():
            erase_mentee(session, mentee, action=audit.Action.PURGE)
            report.mentees.append(mentee.id)
        for mentor in session.scalars(mentors.with_for_update(skip_locked=True)).all():
            erase_mentor(session, mentor, action=audit.Action.PURGE)
            report.mentors.append(mentor.id)
    else:
        report.mentees = [m.id for m in session.scalars(mentees)]
        report.mentors = [m.id for m in session.scalars(mentors)]
    audit_days = audit_retention_days or settings.audit_retention_days
    if apply:
        report.audit_entries = audit.prune(session, audit_days, now)
    else:
        report.audit_entries = audit.due_for_pruning(session, audit_days, now)
    session.flush()
    return report


_last_periodic: float | None = None
_periodic_lock = threading.Lock()


def periodic(engine: Engine) -> PurgeReport | None:
    """Apply retention if ``retention_interval_hours`` passed since this process last did
    (called by the executors' housekeeping, every few seconds)."""
    global _last_periodic
    interval = get_settings().retention_interval_hours * 3600
    if interval <= 0:
        return None
    with _periodic_lock:
        if _last_periodic is not None and time.monotonic() - _last_periodic < interval:
            return None
        _last_periodic = time.monotonic()
    with Session(engine) as session:
        report = purge(session, apply=True)
        session.commit()
    if report.mentees or report.mentors or report.audit_entries:
        logger.info("retention: %s", report.summary())
    return report
