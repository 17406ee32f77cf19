"""National tables computed once per state of the data.

The indicators and the territorial diagnostic need the whole country's counts (to
withhold small counts consistently), which costs a few grouped scans; a department's
answer must not. Each national table is kept in memory with a *fingerprint* of the
tables it reads (row count and latest ``updated_at`` of each, one cheap statement): any
insert, update or deletion changes the fingerprint, and the table is computed again.
Every server process keeps its own; the fingerprint keeps them all exact.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event, func, literal, select, union_all
from sqlalchemy.orm import Session

from app.identity.models import Identity
from app.matches.models import Match
from app.mentees.models import Mentee, mentee_programmes
from app.mentors.models import Mentor
from app.organisations.models import Organisation
from app.programmes.models import Programme
from app.runs.models import MatchingRun
from app.supports.models import Support

T = TypeVar("T")
MAX_ENTRIES = 32
# Identities: linking and detaching change who counts as one person; organisations:
# the tables have a line per organisation.
SOURCES: tuple[Any, ...] = (Mentee, Mentor, Match, Support, Programme, Identity, Organisation)

_lock = threading.Lock()
_entries: "OrderedDict[Hashable, tuple[Hashable, Any]]" = OrderedDict()


def fingerprint(session: Session) -> tuple[Any, ...]:
    """Row count and latest change of every table the national tables read."""
    parts = [
        select(literal(model.__tablename__), func.count(), func.max(model.updated_at))
        for model in SOURCES
    ]
    parts.append(
        select(literal(MatchingRun.__tablename__), func.count(), func.max(MatchingRun.finished_at))
    )
    # Enrolments in programmes (a table of pairs, no timestamps): the count of rows.
    parts.append(
        select(literal("mentee_programmes"), func.count(), literal(None)).select_from(
            mentee_programmes
        )
    )
    rows = session.execute(union_all(*parts)).all()
    return tuple(sorted((str(name), int(count), str(latest)) for name, count, latest in rows))


def _current(session: Session) -> tuple[Any, ...]:
    """The fingerprint, read once per transaction of the session while it writes
    nothing: a request asking for several remembered tables pays one check."""
    found = session.info.get(_FINGERPRINT)
    if found is not None and found[0] is session.get_transaction() and not session.dirty:
        return found[1]  # type: ignore[no-any-return]
    current = _checked(session)
    session.info[_FINGERPRINT] = (session.get_transaction(), current)
    return current


_last_checks: dict[str, tuple[str, tuple[Any, ...]]] = {}


def _checked(session: Session) -> tuple[Any, ...]:
    """The fingerprint; on PostgreSQL, the last one read while no transaction has ended
    since (the snapshot, ``xmin:xmax:running``, changes as soon as one that wrote ends:
    a change of data cannot go unseen), which costs one call instead of a count of
    every table."""
    if session.get_bind().dialect.name != "postgresql":
        return fingerprint(session)
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    snapshot, own = session.execute(
        select(func.pg_current_snapshot(), func.pg_current_xact_id_if_assigned())
    ).one()
    if own is not None:
        return fingerprint(session)  # this transaction wrote: only a count tells
    found = _last_checks.get(url)
    if found is not None and found[0] == str(snapshot):
        return found[1]
    current = fingerprint(session)
    # The snapshot read before the count: a transaction ending in between makes the
    # next request count again.
    _last_checks[url] = (str(snapshot), current)
    return current


_FINGERPRINT = "indicators.memo.fingerprint"


@event.listens_for(Session, "after_flush")
def _forget_fingerprint(session: Session, _context: Any) -> None:
    session.info.pop(_FINGERPRINT, None)


def remembered(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or its result kept from an earlier call on the same data."""
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    full_key = (url, key)
    current = _current(session)
    with _lock:
        found = _entries.get(full_key)
        if found is not None and found[0] == current:
            _entries.move_to_end(full_key)
            return found[1]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        _entries[full_key] = (current, value)
        _entries.move_to_end(full_key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value
