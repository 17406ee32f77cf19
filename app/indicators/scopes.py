"""What a figure is about: a scope (who or where) and a period (which days)."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

from app.errors import field_error
from app.geo import all_communes, is_known_department

EPOCH = date(2000, 1, 1)


@lru_cache(maxsize=1)
def regions() -> frozenset[str]:
    return frozenset(c.region for c in all_communes())


class ScopeKind(StrEnum):
    NATIONAL = "national"
    REGION = "region"
    DEPARTMENT = "department"
    ORGANISATION = "organisation"
    PROGRAMME = "programme"


GEOGRAPHIC = (ScopeKind.NATIONAL, ScopeKind.REGION, ScopeKind.DEPARTMENT)


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    code: str | None = None
    """Department or region code, organisation or programme id; none for national."""

    @classmethod
    def parse(cls, kind: ScopeKind, code: str | None) -> "Scope":
        if kind is ScopeKind.NATIONAL:
            if code is not None:
                raise field_error("query.code", "a national scope takes no code")
            return cls(kind)
        if code is None:
            raise field_error("query.code", f"a {kind.value} scope needs a code")
        if kind is ScopeKind.DEPARTMENT and not is_known_department(code):
            raise field_error("query.code", f"unknown department {code!r}")
        if kind is ScopeKind.REGION and code not in regions():
            raise field_error("query.code", f"unknown region {code!r} (an INSEE region code)")
        if kind in (ScopeKind.ORGANISATION, ScopeKind.PROGRAMME):
            try:
                code = str(uuid.UUID(code))
            except ValueError:
                raise field_error("query.code", f"a {kind.value} id is a UUID") from None
        return cls(kind, code)


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end``, both included; ``as_of`` is the last day data can
    describe (the end, or today if the period is not over)."""

    start: date
    end: date
    as_of: date

    @classmethod
    def of(cls, start: date | None, end: date | None, today: date) -> "Period":
        end = end or today
        start = start or end - timedelta(days=364)
        if start > end:
            raise field_error("query.start", "the period starts after it ends")
        return cls(start, end, min(end, today))

    def day(self, which: date) -> int:
        return (which - EPOCH).days
