"""Input model of the matching engine: plain frozen dataclasses, validated on construction.

Every constructor raises :class:`ProblemError` (a ``ValueError``) naming the offending
field, so the HTTP layer can turn it into a 422 without knowing the rules.

Collections given as lists or sets are normalised to tuples / frozensets of plain
``str`` so that instances are hashable, comparable and ``dataclasses.asdict``-friendly.

Cross references (a mentor volunteering with a programme that is not in the problem,
a support or running match of a mentee who is not in this run, ...) are *not* errors:
the service may legitimately pass a subset of its data. Unknown ids are ignored, except
that running matches and supports always count against the mentee's needs, and running
matches always consume the capacity of the mentor and programme they name.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum

from app.matching.errors import ProblemError
from app.matching.policy import Policy


class Need(StrEnum):
    """Vocabulary of needs, shared by mentees (needs), mentors (skills) and programmes."""

    SCHOOL_SUPPORT = "school_support"
    ORIENTATION = "orientation"
    EMPLOYMENT = "employment"
    HIGHER_EDUCATION = "higher_education"
    ENTREPRENEURSHIP = "entrepreneurship"
    CONFIDENCE = "confidence"
    DIGITAL = "digital"
    FRENCH_LANGUAGE = "french_language"


NEEDS: tuple[str, ...] = tuple(n.value for n in Need)
NEED_INDEX: dict[str, int] = {n: i for i, n in enumerate(NEEDS)}


class RuralZone(StrEnum):
    """France Ruralités Revitalisation classification of the mentee's commune."""

    NONE = "none"
    FRR = "FRR"
    FRR_PLUS = "FRR+"


RURAL_ZONES = tuple(z.value for z in RuralZone)
"""Computed once: every mentee is checked against it (rebuilt per mentee, building
40,000 mentees took 0.27 s instead of 0.22 s)."""
MIN_BIRTH_YEAR = 1900
MAX_TRAVEL_KM = 20_000.0  # half the Earth's circumference: anything above is a data error


def _set(obj: object, name: str, value: object) -> None:
    # Frozen dataclasses need object.__setattr__ to normalise a field in __post_init__.
    object.__setattr__(obj, name, value)


def _check_id(owner: str, name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProblemError(f"{owner}.{name}", "must be a non-empty string id")
    return value


def _check_ids(owner: str, name: str, values: Iterable[object]) -> frozenset[str]:
    if isinstance(values, str):
        raise ProblemError(f"{owner}.{name}", "must be a collection of ids, not a string")
    return frozenset(_check_id(owner, name, v) for v in values)


def _check_needs(
    owner: str, name: str, values: Iterable[object], *, ranked: bool
) -> tuple[str, ...]:
    if isinstance(values, str):
        raise ProblemError(f"{owner}.{name}", "must be a collection of needs, not a string")
    out: list[str] = []
    for v in values:
        if not isinstance(v, str) or v not in NEED_INDEX:
            raise ProblemError(f"{owner}.{name}", f"unknown need {v!r}; expected one of {NEEDS}")
        if v in out:
            raise ProblemError(f"{owner}.{name}", f"need {v!r} listed twice")
        out.append(str(v))
    return tuple(out) if ranked else tuple(sorted(out, key=NEED_INDEX.__getitem__))


def _check_languages(owner: str, values: Iterable[object]) -> frozenset[str]:
    if isinstance(values, str):
        raise ProblemError(f"{owner}.languages", "must be a collection of language codes")
    out = set()
    for v in values:
        if not isinstance(v, str) or not v.strip():
            raise ProblemError(f"{owner}.languages", f"invalid language code {v!r}")
        out.add(v.strip().lower())
    return frozenset(out)


def _check_location(owner: str, lat: object, lon: object) -> None:
    for name, value, bound in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProblemError(f"{owner}.{name}", "must be a number")
        if not math.isfinite(value) or abs(value) > bound:
            raise ProblemError(f"{owner}.{name}", f"must be within ±{bound}")


def _check_km(owner: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProblemError(f"{owner}.{name}", "must be a number of kilometres")
    if not (0.0 <= value <= MAX_TRAVEL_KM):
        raise ProblemError(f"{owner}.{name}", f"must be between 0 and {MAX_TRAVEL_KM:g} km")
    return float(value)


def _check_date(owner: str, name: str, value: object) -> None:
    if not isinstance(value, date):
        raise ProblemError(f"{owner}.{name}", "must be a datetime.date")


def _check_bool(owner: str, name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ProblemError(f"{owner}.{name}", "must be a boolean")


@dataclasses.dataclass(frozen=True, slots=True)
class Programme:
    """A mentoring programme run by a partner organisation.

    ``territories`` holds department codes (``"75"``, ``"2A"``, ``"971"``) and/or INSEE
    commune codes (``"93066"``); a mentee is covered when either code matches.
    Ages are inclusive and compared with ``run year − birth year``.
    ``capacity`` is the maximum number of running matches (running ones included).
    """

    id: str
    needs: frozenset[str]
    territories: frozenset[str]
    min_age: int
    max_age: int
    capacity: int
    remote_allowed: bool = False

    def __post_init__(self) -> None:
        owner = f"programme {self.id!r}"
        _check_id(owner, "id", self.id)
        _set(self, "needs", frozenset(_check_needs(owner, "needs", self.needs, ranked=False)))
        _set(self, "territories", _check_ids(owner, "territories", self.territories))
        for name in ("min_age", "max_age", "capacity"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ProblemError(f"{owner}.{name}", "must be a non-negative integer")
        if self.min_age > self.max_age:
            raise ProblemError(f"{owner}.min_age", "must not exceed max_age")
        _check_bool(owner, "remote_allowed", self.remote_allowed)


@dataclasses.dataclass(frozen=True, slots=True)
class Mentor:
    """A volunteer. ``capacity`` is the number of concurrent mentees (1..5), running
    matches included; ``skills`` uses the needs vocabulary.

    ``background_checked_programme_ids``: the programmes for which the background check
    counts (a check declared by one organisation binds another's programme only once
    that programme's association recorded or confirmed it); ``None``: every programme of
    the mentor. The check must also be valid on the run date.
    """

    id: str
    lat: float
    lon: float
    max_travel_km: float
    capacity: int
    skills: frozenset[str]
    programme_ids: frozenset[str]
    languages: frozenset[str] = frozenset()
    remote_ok: bool = False
    background_check_valid_until: date | None = None
    background_checked_programme_ids: frozenset[str] | None = None

    def __post_init__(self) -> None:
        owner = f"mentor {self.id!r}"
        _check_id(owner, "id", self.id)
        _check_location(owner, self.lat, self.lon)
        _set(self, "max_travel_km", _check_km(owner, "max_travel_km", self.max_travel_km))
        cap = self.capacity
        if isinstance(cap, bool) or not isinstance(cap, int) or not 1 <= cap <= 5:
            raise ProblemError(f"{owner}.capacity", "must be an integer between 1 and 5")
        _set(self, "skills", frozenset(_check_needs(owner, "skills", self.skills, ranked=False)))
        _set(self, "programme_ids", _check_ids(owner, "programme_ids", self.programme_ids))
        _set(self, "languages", _check_languages(owner, self.languages))
        _check_bool(owner, "remote_ok", self.remote_ok)
        if self.background_check_valid_until is not None:
            _check_date(owner, "background_check_valid_until", self.background_check_valid_until)
        if self.background_checked_programme_ids is not None:
            checked = _check_ids(
                owner, "background_checked_programme_ids", self.background_checked_programme_ids
            )
            _set(self, "background_checked_programme_ids", checked)


@dataclasses.dataclass(frozen=True, slots=True)
class Mentee:
    """A young person waiting for a mentor.

    ``needs`` is ranked, most important first. ``enrolled_programme_ids`` empty means
    open to any programme covering the mentee. Only the birth year is known.
    """

    id: str
    birth_year: int
    lat: float
    lon: float
    commune_insee: str
    department: str
    needs: tuple[str, ...]
    waiting_since: date
    max_travel_km: float
    languages: frozenset[str] = frozenset()
    remote_ok: bool = False
    qpv: bool = False
    rural_zone: str = RuralZone.NONE.value
    enrolled_programme_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        owner = f"mentee {self.id!r}"
        _check_id(owner, "id", self.id)
        by = self.birth_year
        if isinstance(by, bool) or not isinstance(by, int) or not MIN_BIRTH_YEAR <= by <= 9999:
            raise ProblemError(
                f"{owner}.birth_year", f"must be an integer year >= {MIN_BIRTH_YEAR}"
            )
        _check_location(owner, self.lat, self.lon)
        _check_id(owner, "commune_insee", self.commune_insee)
        _check_id(owner, "department", self.department)
        _set(self, "needs", _check_needs(owner, "needs", self.needs, ranked=True))
        _check_date(owner, "waiting_since", self.waiting_since)
        _set(self, "max_travel_km", _check_km(owner, "max_travel_km", self.max_travel_km))
        _set(self, "languages", _check_languages(owner, self.languages))
        _check_bool(owner, "remote_ok", self.remote_ok)
        _check_bool(owner, "qpv", self.qpv)
        if self.rural_zone not in RURAL_ZONES:
            raise ProblemError(f"{owner}.rural_zone", f"must be one of {RURAL_ZONES}")
        _set(self, "rural_zone", str(RuralZone(self.rural_zone)))
        _set(
            self,
            "enrolled_programme_ids",
            _check_ids(owner, "enrolled_programme_ids", self.enrolled_programme_ids),
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Support:
    """Support already received by a mentee for one need, from any provider.

    Active on the run date when ``start <= run_date`` and (``end`` is None or
    ``end >= run_date``)."""

    mentee_id: str
    need: str
    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        owner = f"support of {self.mentee_id!r}"
        _check_id(owner, "mentee_id", self.mentee_id)
        _check_needs(owner, "need", (self.need,), ranked=True)
        _set(self, "need", str(self.need))
        _check_date(owner, "start", self.start)
        if self.end is not None:
            _check_date(owner, "end", self.end)
            if self.end < self.start:
                raise ProblemError(f"{owner}.end", "must not be before start")

    def active_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or self.end >= day)


@dataclasses.dataclass(frozen=True, slots=True)
class RunningMatch:
    """A match in progress: consumes one unit of the mentor's and the programme's
    capacity and covers ``need`` for the mentee."""

    mentee_id: str
    mentor_id: str
    programme_id: str
    need: str

    def __post_init__(self) -> None:
        owner = f"running match {self.mentee_id!r}-{self.mentor_id!r}"
        for name in ("mentee_id", "mentor_id", "programme_id"):
            _check_id(owner, name, getattr(self, name))
        _check_needs(owner, "need", (self.need,), ranked=True)
        _set(self, "need", str(self.need))


@dataclasses.dataclass(frozen=True, slots=True)
class ExcludedPair:
    """A mentee–mentor pair that must never be proposed again (e.g. a past match
    closed for incompatibility)."""

    mentee_id: str
    mentor_id: str

    def __post_init__(self) -> None:
        owner = "excluded pair"
        _check_id(owner, "mentee_id", self.mentee_id)
        _check_id(owner, "mentor_id", self.mentor_id)


@dataclasses.dataclass(frozen=True, slots=True)
class CurrentPair:
    """A pair the previous run proposed (or a match accepted or active) that this run
    reconsiders: the engine prefers to propose it again (``Policy.stability``) and says
    why when it does not. Unlike a running match it holds no capacity."""

    mentee_id: str
    mentor_id: str
    programme_id: str
    need: str
    accepted: bool = False
    """Accepted or active (kept more firmly than an unaccepted proposal)."""

    def __post_init__(self) -> None:
        owner = f"current pair {self.mentee_id!r}-{self.mentor_id!r}"
        for name in ("mentee_id", "mentor_id", "programme_id"):
            _check_id(owner, name, getattr(self, name))
        _check_needs(owner, "need", (self.need,), ranked=True)
        _set(self, "need", str(self.need))
        _check_bool(owner, "accepted", self.accepted)


def _check_unique(kind: str, items: Sequence[Mentee | Mentor | Programme]) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.id in seen:
            raise ProblemError(f"{kind}[{i}].id", f"duplicate id {item.id!r}")
        seen.add(item.id)


@dataclasses.dataclass(frozen=True, slots=True)
class MatchingProblem:
    """Everything one matching run needs. Lists are normalised to tuples."""

    run_date: date
    mentees: tuple[Mentee, ...]
    mentors: tuple[Mentor, ...]
    programmes: tuple[Programme, ...]
    supports: tuple[Support, ...] = ()
    running_matches: tuple[RunningMatch, ...] = ()
    excluded_pairs: tuple[ExcludedPair, ...] = ()
    policy: Policy = dataclasses.field(default_factory=Policy)
    current_pairs: tuple[CurrentPair, ...] = ()

    def __post_init__(self) -> None:
        _check_date("problem", "run_date", self.run_date)
        for name, kind in (
            ("mentees", Mentee),
            ("mentors", Mentor),
            ("programmes", Programme),
            ("supports", Support),
            ("running_matches", RunningMatch),
            ("excluded_pairs", ExcludedPair),
            ("current_pairs", CurrentPair),
        ):
            items = tuple(getattr(self, name))
            for i, item in enumerate(items):
                if not isinstance(item, kind):
                    raise ProblemError(f"{name}[{i}]", f"must be a {kind.__name__}")
            _set(self, name, items)
        _check_unique("mentees", self.mentees)
        _check_unique("mentors", self.mentors)
        _check_unique("programmes", self.programmes)

        if not isinstance(self.policy, Policy):
            raise ProblemError("policy", "must be a Policy (see Policy.from_dict)")
