"""The indicators' national tables, cached on what they are computed from.

A monthly chart needs one national table per month (the suppression of a month's cell
depends on every cell of that month's table), and a map the table of the year: a dozen
grouped queries each. The tables are kept, per database, under a fingerprint of the rows
they read — for each table, its row count and latest ``updated_at`` (every write through
the service sets it; a deletion changes the count) — so that a picture asked again, or
the next month of a chart, costs one small query until something changes.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.indicators import service as indicators
from app.indicators.scopes import Period
from app.matches.models import Match
from app.mentees.models import Mentee, mentee_programmes
from app.mentors.models import Mentor
from app.organisations.models import Organisation
from app.programmes.models import Programme
from app.supports.models import Support

T = TypeVar("T")

SIZE = 256
_TRACKED = (Match, Mentee, Mentor, Programme, Organisation, Support)
_cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_lock = threading.Lock()


def fingerprint(session: Session) -> tuple[Any, ...]:
    columns: list[Any] = []
    for model in _TRACKED:
        columns += [
            select(func.count()).select_from(model).scalar_subquery(),
            select(func.max(model.updated_at)).scalar_subquery(),
        ]
    columns.append(select(func.count()).select_from(mentee_programmes).scalar_subquery())
    return tuple(session.execute(select(*columns)).one())


def remember(
    session: Session,
    key: tuple[Any, ...],
    compute: Callable[[], T],
    stamp: tuple[Any, ...] | None = None,
) -> T:
    """``compute()``, from the cache while nothing it reads changed (``key`` names what
    is computed; pass ``stamp`` to reuse one fingerprint for several keys)."""
    full = (str(session.get_bind().engine.url), stamp or fingerprint(session), *key)
    with _lock:
        if full in _cache:
            _cache.move_to_end(full)
            return _cache[full]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        _cache[full] = value
        while len(_cache) > SIZE:
            _cache.popitem(last=False)
    return value


def national_table(
    session: Session,
    period: Period,
    programme: str | None = None,
    stamp: tuple[Any, ...] | None = None,
) -> indicators.Table:
    """``indicators.national_table``, from the cache while nothing it reads changed."""
    return remember(
        session,
        ("indicators", period, programme),
        lambda: indicators.national_table(session, period, programme),
        stamp,
    )
