"""Aggregated, non-personal figures per territory: the shared diagnostic.

Counts come from SQL aggregates (:mod:`app.territories.aggregates`). Small counts are
withheld with complementary suppression (:mod:`app.indicators.suppression`) over one
national table — the nation, its departments and, for a department's diagnostic, its
communes — so a count withheld in one answer cannot be recovered from another.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from app.db import contains
from app.geo import commune, communes_in_department, departments
from app.identity import sql as identity_sql
from app.indicators.memo import remembered
from app.indicators.sql import utc_day
from app.indicators.suppression import SMALL_COUNT, Line, withheld_cells
from app.matches.models import Match
from app.matching.result import ALL_NEEDS_SUPPORTED
from app.mentees.models import Mentee
from app.runs.models import MatchingRun, RunStatus, RunUnmatched
from app.territories import aggregates
from app.territories.aggregates import COMMUNES_SUFFIX, IMPACT_MEASURES, NEEDS
from app.territories.schemas import (
    CommuneFigures,
    CrossOrganisation,
    DepartmentHeadline,
    Impact,
    NeedFigures,
    TerritoryDiagnostic,
    TerritoryOverview,
    Unanswered,
)
from app.vocabulary import Need

PLACE_MEASURES = (
    "young_people",
    "in_qpv",
    "in_rural_area",
    "mentors",
    *(f"{kind}:{need.value}" for kind in ("waiting", "supported", "mentors") for need in NEEDS),
)
"""Counts that add up from communes to departments to the nation."""

Cell = tuple[str, str]
"""(measure, place): place is ``""`` for the nation, a department or an INSEE code."""


def withhold(count: int, exact: bool) -> int | None:
    """Counts from 1 to 4 are withheld unless the caller may see exact figures (for
    figures outside any additive table: reasons of one run)."""
    return count if exact or count == 0 or count >= SMALL_COUNT else None


@dataclass
class NationalTable:
    """Counts of the nation and of every department, the cells withheld, and the
    department counts with their number of positive communes."""

    values: dict[Cell, int] = field(default_factory=dict)
    lines: list[Line[Cell]] = field(default_factory=list)
    forced: set[Cell] = field(default_factory=set)
    hidden: set[Cell] = field(default_factory=set)

    def get(self, measure: str, place: str) -> int:
        return self.values.get((measure, place), 0)


def national_table(session: Session, day: date) -> NationalTable:
    """The nation and every department, with the cells withheld (computed once per
    state of the data: see :mod:`app.indicators.memo`)."""
    return remembered(session, ("territories", day), lambda: _national_table(session, day))


def _national_table(session: Session, day: date) -> NationalTable:
    table = NationalTable()
    codes = list(departments())
    places = {key[0]: counts for key, counts in aggregates.places(session, day, None).items()}
    impact = aggregates.impact_rows(session, None)
    for code in codes:
        counts = places.get(code, {})
        for measure in PLACE_MEASURES:
            value = counts.get(measure, 0)
            table.values[(measure, code)] = value
            # Where every commune with someone counted holds exactly one, the communes
            # could not protect each other below a published department total.
            if value >= SMALL_COUNT and value <= counts.get(measure + COMMUNES_SUFFIX, 0):
                table.forced.add((measure, code))
        for measure in IMPACT_MEASURES:
            table.values[(measure, code)] = impact.get(code, {}).get(measure, 0)
    for measure in (*PLACE_MEASURES, *IMPACT_MEASURES):
        parts = tuple((measure, code) for code in codes)
        table.values[(measure, "")] = sum(table.values[cell] for cell in parts)
        table.lines.append(Line((measure, ""), parts))
    table.hidden = withheld_cells(table.values, table.lines, forced=table.forced)
    return table


NEED_CELLS = tuple(
    (need, f"waiting:{need.value}", f"supported:{need.value}", f"mentors:{need.value}")
    for need in Need
)


def _needs(value: "Shown", place: str) -> dict[Need, NeedFigures]:
    # Built from the service's own integers: no validation needed (hundreds of communes
    # × needs per answer).
    return {
        need: NeedFigures.model_construct(
            waiting=value(waiting, place),
            supported=value(supported, place),
            mentors=value(mentors, place),
        )
        for need, waiting, supported, mentors in NEED_CELLS
    }


class Shown:
    def __init__(self, table: NationalTable, hidden: set[Cell], exact: bool) -> None:
        self.table, self.hidden, self.exact = table, hidden, exact

    def __call__(self, measure: str, place: str) -> int | None:
        if not self.exact and (measure, place) in self.hidden:
            return None
        return self.table.get(measure, place)


def _impact(value: Shown, place: str, median: float | None = None) -> Impact:
    return Impact(
        proposed=value("proposed", place),
        running=value("running", place),
        active=value("active", place),
        completed=value("completed", place),
        ended_early=value("ended_early", place),
        young_people_mentored=value("young_people_mentored", place),
        median_days_to_first_meeting=median,
    )


def diagnostic(session: Session, department: str, day: date, *, exact: bool) -> TerritoryDiagnostic:
    """One department's diagnostic, kept per state of the data (every table it reads is
    fingerprinted: :mod:`app.indicators.memo`)."""
    return remembered(
        session,
        ("diagnostic", department, day, exact),
        lambda: _diagnostic(session, department, day, exact=exact),
    )


def _diagnostic(
    session: Session, department: str, day: date, *, exact: bool
) -> TerritoryDiagnostic:
    national = national_table(session, day)
    rows = aggregates.places(session, day, department)
    insees = sorted({insee for (_, insee) in rows})
    table = NationalTable(values=dict(national.values))
    for (_, insee), counts in rows.items():
        for measure in PLACE_MEASURES:
            table.values[(measure, insee)] = counts.get(measure, 0)
    lines = [
        Line((measure, department), tuple((measure, i) for i in insees))
        for measure in PLACE_MEASURES
    ]
    # The department's own cells are settled by the national table; its communes
    # protect each other (and never need the department total: see _national_table).
    settled = {(m, department) for m in PLACE_MEASURES if (m, department) in national.hidden}
    local = withheld_cells(table.values, lines, forced=settled)
    value = Shown(table, national.hidden | local, exact)
    communes = [
        CommuneFigures.model_construct(
            insee=insee,
            name=found.name if (found := commune(insee)) else insee,
            young_people=value("young_people", insee),
            in_qpv=value("in_qpv", insee),
            in_rural_area=value("in_rural_area", insee),
            mentors=value("mentors", insee),
            needs=_needs(value, insee),
        )
        for insee in insees
    ]
    started = table.get("young_people_mentored", department)
    median = (
        median_days_to_first_meeting(session, department)
        if started and (exact or started >= SMALL_COUNT)
        else None
    )
    return TerritoryDiagnostic(
        department=department,
        as_of=day,
        young_people=value("young_people", department),
        in_qpv=value("in_qpv", department),
        in_rural_area=value("in_rural_area", department),
        mentors=value("mentors", department),
        programme_capacity=aggregates.capacity_by_department(session).get(department, 0),
        needs=_needs(value, department),
        communes=communes,
        impact=_impact(value, department, median),
        unanswered=unanswered(session, department, exact=exact),
        cross_organisation=cross_organisation(session, department, day, exact=exact),
    )


def cross_organisation(
    session: Session, department: str, day: date, *, exact: bool
) -> CrossOrganisation:
    """People, not records: the same young person referred by several organisations
    counts once (app.identity.sql), small counts withheld like every other figure."""
    in_department = (Mentee.department == department, Mentee.active.is_(True))
    persons = session.scalar(
        select(func.count(distinct(identity_sql.person_key(session)))).where(*in_department)
    )
    return CrossOrganisation(
        distinct_young_people=withhold(int(persons or 0), exact),
        duplicate_referrals=withhold(
            identity_sql.duplicate_referrals(session, *in_department), exact
        ),
        duplicates_avoided=withhold(
            identity_sql.duplicate_supports_avoided(session, day, *in_department), exact
        ),
    )


def overview(session: Session, day: date, *, exact: bool) -> TerritoryOverview:
    """Every department's headline figures (and the nation's), withheld as in each
    department's own diagnostic."""
    table = national_table(session, day)
    value = Shown(table, table.hidden, exact)
    capacity = aggregates.capacity_by_department(session)

    def headline(code: str, region: str) -> DepartmentHeadline:
        return DepartmentHeadline(
            department=code,
            region=region,
            young_people=value("young_people", code),
            in_qpv=value("in_qpv", code),
            in_rural_area=value("in_rural_area", code),
            mentors=value("mentors", code),
            programme_capacity=capacity.get(code, 0) if code else sum(capacity.values()),
            needs=_needs(value, code),
            impact=_impact(value, code),
        )

    return TerritoryOverview(
        as_of=day,
        national=headline("", ""),
        departments=[headline(code, _region(code)) for code in departments()],
    )


def _region(department: str) -> str:
    found = communes_in_department(department)
    return found[0].region if found else ""


def median_days_to_first_meeting(session: Session, department: str) -> float | None:
    waited = utc_day(Match.started_at) - utc_day(Mentee.waiting_since)
    days = case((waited > 0, waited), else_=0)
    where = (Mentee.department == department, Match.started_at.is_not(None))
    base = select().select_from(Match).join(Mentee, Mentee.id == Match.mentee_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = base.add_columns(func.percentile_cont(0.5).within_group(days)).where(*where)
        median = session.execute(stmt).scalar()
        return None if median is None else float(median)
    values = sorted(int(v) for v in session.scalars(base.add_columns(days).where(*where)))
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return float(values[middle])
    return (values[middle - 1] + values[middle]) / 2


def unanswered(session: Session, department: str, *, exact: bool) -> Unanswered | None:
    """Why young people of the department were left unmatched by the latest run (those
    whose needs were all supported already are not unanswered, and are left out)."""
    latest = session.execute(
        select(MatchingRun.id, MatchingRun.finished_at)
        .join(RunUnmatched, RunUnmatched.run_id == MatchingRun.id)
        .join(Mentee, Mentee.id == RunUnmatched.mentee_id)
        .where(MatchingRun.status == RunStatus.SUCCEEDED, Mentee.department == department)
        .order_by(MatchingRun.finished_at.desc(), MatchingRun.id)
        .limit(1)
    ).first()
    if latest is None:
        return None
    where = (
        RunUnmatched.run_id == latest.id,
        Mentee.department == department,
        RunUnmatched.reason != ALL_NEEDS_SUPPORTED,
    )
    per_need = [func.count(case((contains(Mentee.needs, n.value), 1))) for n in NEEDS]
    stmt = (
        select(RunUnmatched.reason, func.count(), *per_need)
        .select_from(RunUnmatched)
        .join(Mentee, Mentee.id == RunUnmatched.mentee_id)
        .where(*where)
        .group_by(RunUnmatched.reason)
    )
    reasons: dict[str, int] = {}
    needs: dict[str, dict[str, int]] = {}
    for reason, total, *counts in session.execute(stmt):
        reasons[reason] = int(total)
        needs[reason] = {n.value: int(c) for n, c in zip(NEEDS, counts, strict=True) if c}
    cells: dict[tuple[str, str], int] = {(r, ""): n for r, n in reasons.items()}
    cells.update({(r, need): n for r, c in needs.items() for need, n in c.items()})
    hidden = set() if exact else withheld_cells(cells, [])
    return Unanswered(
        run_id=latest.id,
        run_finished_at=latest.finished_at,
        reasons={r: None if (r, "") in hidden else n for r, n in sorted(reasons.items())},
        needs_by_reason={
            r: {Need(k): None if (r, k) in hidden else n for k, n in sorted(c.items())}
            for r, c in sorted(needs.items())
        },
    )
