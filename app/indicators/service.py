"""The common impact measure for any scope and period, small counts withheld.

Every count is computed for the whole country at once, per department and per
programme, so that the suppression of small counts sees every line a figure belongs to
(a department within its region and the nation, a programme within its organisation):
the same cell is withheld whichever scope asks for it.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.auth.service import Caller
from app.errors import Forbidden, NotFound
from app.identity import sql as identity_sql
from app.indicators import aggregates
from app.indicators.aggregates import CLOSE_REASONS, GROUPS, Counts
from app.indicators.definitions import (
    BY_KEY,
    DEFINITION_VERSION,
    EARLY_CLOSURE_DAYS,
    RETENTION_DAYS,
)
from app.indicators.memo import remembered
from app.indicators.scopes import Period, Scope, ScopeKind
from app.indicators.suppression import SMALL_COUNT, Line, is_small, withheld_cells
from app.indicators.survival import Tally, events_until, survival_at
from app.matches.models import Match
from app.mentees.models import Mentee
from app.programmes.models import Programme
from app.vocabulary import Role

Cell = tuple[str, str, str]
"""(measure, level, code): one count of the national table."""

# Counts of matches add up over programmes and organisations; counts of distinct young
# people do not (one young person may be matched in two programmes).
PERSON_MEASURES = ("young_people_matched", "young_people_mentored")


@dataclass(frozen=True)
class Figure:
    indicator: str
    breakdown: str | None
    value: float | None
    status: str
    """``published``, ``withheld`` (a small count, or one that would reveal one) or
    ``not_available`` (not computed by this version)."""

    @property
    def unit(self) -> str:
        return BY_KEY[self.indicator].unit.value


@dataclass(frozen=True)
class Indicators:
    scope: Scope
    period: Period
    definition_version: str
    exact: bool
    figures: list[Figure]


class Table:
    """The national table of counts and its additive lines."""

    def __init__(self) -> None:
        self.values: dict[Cell, int] = {}
        self.lines: list[Line[Cell]] = []
        self.hidden: set[Cell] = set()

    def put(self, level: str, code: str, counts: Counts, measures: list[str]) -> None:
        for measure in measures:
            self.values[(measure, level, code)] = counts.get(measure, 0)

    def sum_up(
        self,
        measures: list[str],
        children: dict[str, list[str]],
        top: str,
        bottom: str,
        *,
        store: bool = True,
    ) -> None:
        """For every parent: the line ``parent = sum(children)`` of each measure (and,
        with ``store``, the parent's value as that sum)."""
        for parent, kids in sorted(children.items()):
            for measure in measures:
                cells = tuple((measure, bottom, kid) for kid in sorted(kids))
                total = (measure, top, parent)
                if store:
                    self.values[total] = sum(self.value(cell) for cell in cells)
                self.lines.append(Line(total, cells))

    def value(self, cell: Cell) -> int:
        return self.values.get(cell, 0)


def national_table(session: Session, period: Period, programme: str | None = None) -> Table:
    """Computed once per state of the data (:mod:`app.indicators.memo`).

    Every count for the nation, its regions, departments, organisations and
    programmes, with the cells to withhold. ``programme``: also the young people
    enrolled in that programme (cells of their own: they add up to nothing)."""
    return remembered(
        session,
        ("indicators", period, programme),
        lambda: _national_table(session, period, programme),
    )


def _national_table(session: Session, period: Period, programme: str | None) -> Table:
    table = Table()
    match_measures = list(aggregates.match_measures(period))
    mentee_measures = list(aggregates.MENTEE_MEASURES)
    measures = match_measures + mentee_measures
    regions: dict[str, list[str]] = defaultdict(list)
    for rows in (
        aggregates.matches_by_department(session, period),
        aggregates.mentees_by_department(session, period),
    ):
        for (department, region), counts in rows.items():
            if department not in regions[region]:
                regions[region].append(department)
            table.put("department", department, counts, list(counts))
    table.sum_up(measures, regions, "region", "department")
    table.sum_up(measures, {"": list(regions)}, "national", "region")

    additive = [m for m in match_measures if not _is_person(m)]
    organisations: dict[str, list[str]] = defaultdict(list)
    for (org, programme_id), counts in aggregates.matches_by_programme(session, period).items():
        organisations[org].append(programme_id)
        table.put("programme", programme_id, counts, match_measures)
    for (org,), counts in aggregates.matches_by_organisation(session, period).items():
        table.put("organisation", org, counts, [m for m in match_measures if _is_person(m)])
    table.sum_up(additive, organisations, "organisation", "programme")
    for (org,), counts in aggregates.mentees_by_organisation(session, period).items():
        table.put("organisation", org, counts, mentee_measures)
        organisations.setdefault(org, [])
    national = {"": list(organisations)}
    table.sum_up(additive + mentee_measures, national, "national", "organisation", store=False)
    if programme is not None:
        counts = aggregates.mentees_of_programme(session, period, programme)
        table.put("programme", programme, counts, mentee_measures)
    # Closure reasons add up to the closures of every cell.
    for measure, level, code in list(table.values):
        if measure == "matches_closed":
            reasons = tuple((f"matches_closed:{r.value}", level, code) for r in CLOSE_REASONS)
            table.lines.append(Line((measure, level, code), reasons))
    table.hidden = withheld_cells(table.values, table.lines)
    return table


def _is_person(measure: str) -> bool:
    return measure in PERSON_MEASURES or measure.startswith("reach_mentored:")


def compute(session: Session, caller: Caller, scope: Scope, period: Period) -> Indicators:
    """The indicators of ``scope`` over ``period``; exact figures for admins only."""
    check_access(session, caller, scope)
    exact = caller.is_admin
    programme = scope.code if scope.kind is ScopeKind.PROGRAMME else None
    table = national_table(session, period, programme)
    level, code = _cell_of(scope)
    hidden = set() if exact else table.hidden

    def shown(measure: str) -> int | None:
        cell = (measure, level, code)
        return None if cell in hidden else table.value(cell)

    figures: list[Figure] = []

    def add(indicator: str, value: float | None, breakdown: str | None = None) -> None:
        status = "published" if value is not None else "withheld"
        figures.append(Figure(indicator, breakdown, value, status))

    def share(part: int | None, whole: int | None) -> float | None:
        return round(part / whole, 4) if part is not None and whole else None

    for key in (
        "young_people_referred",
        "matches_proposed",
        "young_people_matched",
        "matches_started",
        "young_people_mentored",
    ):
        add(key, shown(key))
    proposed, started = shown("matches_proposed"), shown("matches_started")
    timeline = scope_timeline(session, scope, period)
    enough = 1 if exact else SMALL_COUNT
    add(
        "median_days_to_proposal",
        timeline.days_to_proposal if proposed and proposed >= enough else None,
    )
    add(
        "median_days_to_first_meeting",
        timeline.days_to_first_meeting if started and started >= enough else None,
    )
    followed = shown("matches_followed")
    add("matches_followed", followed)
    months = timeline.active_months
    meetings = timeline.meetings if months > 0 else 0
    rate = round(meetings / months, 3) if followed is not None and months > 0 else None
    add("meetings_per_active_month", rate)
    for key in EARLY_CLOSURE_DAYS:
        add(key, share(shown(f"{key}:closed"), shown(f"{key}:eligible")))
    tallies = timeline.tallies
    for key, days in RETENTION_DAYS.items():
        value = survival_at(tallies, days) if started else None
        if not exact and (started is None or is_small(events_until(tallies, days))):
            value = None
        add(key, None if value is None else round(value, 4))
    add("matches_closed", shown("matches_closed"))
    for reason in CLOSE_REASONS:
        add("matches_closed", shown(f"matches_closed:{reason.value}"), reason.value)
    mentored = shown("young_people_mentored")
    for group in GROUPS:
        value = shown(f"reach_mentored:{group}")
        add("reach_mentored", value, group)
        add("reach_mentored_share", share(value, mentored), group)
    waiting = shown("reach_waiting:all")
    add("reach_waiting", waiting, "all")
    for group in GROUPS:
        value = shown(f"reach_waiting:{group}")
        add("reach_waiting", value, group)
        add("reach_waiting_share", share(value, waiting), group)
    add("duplicate_referrals", shown("duplicate_referrals"))
    avoided = duplicates_avoided(session, scope, period)
    add("duplicates_avoided", avoided if exact or not is_small(avoided) else None)
    return Indicators(scope, period, DEFINITION_VERSION, exact, figures)


def duplicates_avoided(session: Session, scope: Scope, period: Period) -> int:
    """Needs of the scope's active young people covered by another actor only, as of the
    period's end (see ``app.identity.sql.duplicate_supports_avoided``)."""

    def compute() -> int:
        day = min(period.end, period.as_of)
        return identity_sql.duplicate_supports_avoided(
            session, day, Mentee.active.is_(True), *aggregates.mentee_filter(scope)
        )

    return remembered(session, ("duplicates_avoided", scope, period), compute)


@dataclass(frozen=True)
class Timeline:
    """What a scope's matches did over time: medians, survival tallies, months run."""

    days_to_proposal: float | None
    days_to_first_meeting: float | None
    tallies: list[Tally]
    active_months: float
    meetings: int


def scope_timeline(session: Session, scope: Scope, period: Period) -> Timeline:
    """The scope's own aggregates over its matches and their meetings, kept per state of
    the data like the national tables (a meeting recorded changes its match: see
    ``app.followup.service.add_meeting``; meetings are never updated, and deleted only
    with their match)."""

    def compute() -> Timeline:
        return Timeline(
            aggregates.median_days(session, scope, period, Match.proposed_at),
            aggregates.median_days(session, scope, period, Match.started_at),
            aggregates.survival_tallies(session, scope, period),
            aggregates.active_months(session, scope, period),
            aggregates.meetings_held(session, scope, period),
        )

    return remembered(session, ("timeline", scope, period), compute)


def _cell_of(scope: Scope) -> tuple[str, str]:
    if scope.kind is ScopeKind.NATIONAL:
        return "national", ""
    return scope.kind.value, str(scope.code)


def check_access(session: Session, caller: Caller, scope: Scope) -> None:
    """Geographic scopes are open to every role; an organisation's figures to itself,
    a programme's to the association running it (admins: all)."""
    if caller.is_admin or scope.kind in (
        ScopeKind.NATIONAL,
        ScopeKind.REGION,
        ScopeKind.DEPARTMENT,
    ):
        if scope.kind is ScopeKind.PROGRAMME:
            _programme(session, str(scope.code))
        return
    if scope.kind is ScopeKind.ORGANISATION:
        if str(caller.organisation_id) != scope.code:
            raise Forbidden("an organisation's figures are for the organisation itself")
        return
    programme = _programme(session, str(scope.code))
    if caller.role is not Role.ASSOCIATION or programme.organisation_id != caller.organisation_id:
        raise Forbidden("a programme's figures are for the association running it")


def _programme(session: Session, code: str) -> Programme:
    programme = session.get(Programme, uuid.UUID(code))
    if programme is None:
        raise NotFound(f"no programme {code}")
    return programme
