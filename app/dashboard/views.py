"""What each page shows, gathered with the signed-in caller's rights."""

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.auth.service import Caller
from app.indicators import export
from app.indicators import service as indicators
from app.indicators.schemas import IndicatorsRead
from app.indicators.scopes import Period, Scope, ScopeKind
from app.maps import figures
from app.maps.figures import INDICATORS, Indicator, Value
from app.maps.outlines import outlines
from app.matches.models import CloseReason, Match, MatchStatus
from app.mentees.models import mentee_programmes
from app.mentors.models import Mentor
from app.organisations.models import Organisation
from app.programmes.models import Programme
from app.territories import service as territories
from app.territories.schemas import TerritoryDiagnostic
from app.vocabulary import Need, OrganisationKind, Role

NEED_LABELS: dict[str, str] = {
    Need.SCHOOL_SUPPORT: "Soutien scolaire",
    Need.ORIENTATION: "Orientation",
    Need.EMPLOYMENT: "Emploi",
    Need.HIGHER_EDUCATION: "Études supérieures",
    Need.ENTREPRENEURSHIP: "Entrepreneuriat",
    Need.CONFIDENCE: "Confiance en soi",
    Need.DIGITAL: "Numérique",
    Need.FRENCH_LANGUAGE: "Langue française",
}
REASON_LABELS: dict[str, str] = {
    "no_programme": "Aucun programme ne couvre ce jeune (territoire, âge ou besoin)",
    "no_mentor_in_reach": "Aucun bénévole à portée de déplacement",
    "no_background_checked_mentor": "Aucun bénévole au contrôle d'honorabilité valide (mineurs)",
    "no_compatible_mentor": "Aucun bénévole compatible (langue, binôme exclu)",
    "capacity_exhausted": "Capacités des programmes ou des bénévoles épuisées",
}
ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "administration",
    Role.ASSOCIATION: "association",
    Role.COMPANY_HR: "RH d'entreprise",
    Role.PUBLIC_BODY: "acteur public",
}
WITHHELD_TEXT = "< 5"


def shown(value: Value, share: bool = False) -> str:
    """A figure as the pages print it (French number format)."""
    if value.withheld:
        return WITHHELD_TEXT
    if value.value is None:
        return "—"
    if share:
        return f"{value.value * 100:.0f} %"
    if value.value == int(value.value):
        return f"{int(value.value):,}".replace(",", "\u202f")
    return f"{value.value:.2f}".replace(".", ",")


def count(n: int | None) -> str:
    """A count of the territory diagnostic: ``None`` is a withheld small count."""
    return WITHHELD_TEXT if n is None else f"{n:,}".replace(",", "\u202f")


@dataclass
class DepartmentRow:
    code: str
    name: str
    values: dict[Indicator, str]


def national(session: Session, caller: Caller) -> list[DepartmentRow]:
    """Every department with young people or volunteers, every indicator."""
    names = {code: o.name for code, o in outlines().items()}
    rows = []
    for code, found in figures.department_figures(session, caller.is_admin).items():
        if code not in names:
            continue
        rows.append(
            DepartmentRow(
                code,
                names[code],
                {
                    indicator: shown(found.value(indicator), info.share)
                    for indicator, info in INDICATORS.items()
                },
            )
        )
    return rows


@dataclass
class DepartmentPage:
    code: str
    name: str
    diagnostic: TerritoryDiagnostic
    indicators: dict[Indicator, str]
    measured: list[tuple[str, str, str]]
    """The indicators of the department: (label, breakdown, figure)."""
    period: Period
    definition_version: str


def department(session: Session, caller: Caller, code: str) -> DepartmentPage:
    today = date.today()
    diagnostic = territories.diagnostic(session, code, today, exact=caller.is_admin)
    found = figures.department_figures(session, caller.is_admin, only=code).get(code)
    period = figures.last_year(today)
    measured = indicators.compute(session, caller, Scope(ScopeKind.DEPARTMENT, code), period)
    return DepartmentPage(
        code=code,
        name=outlines()[code].name,
        diagnostic=diagnostic,
        indicators={
            indicator: shown(found.value(indicator) if found else figures.NO_DATA, info.share)
            for indicator, info in INDICATORS.items()
        },
        measured=[
            (INDICATOR_LABELS.get(f.indicator, f.indicator), _breakdown(f.breakdown), _figure(f))
            for f in measured.figures
            if f.status != "not_available"
        ],
        period=period,
        definition_version=measured.definition_version,
    )


INDICATOR_LABELS: dict[str, str] = {
    "young_people_referred": "Jeunes orientés",
    "matches_proposed": "Binômes proposés",
    "young_people_matched": "Jeunes ayant reçu une proposition",
    "matches_started": "Binômes démarrés",
    "young_people_mentored": "Jeunes accompagnés (binôme démarré)",
    "median_days_to_proposal": "Délai médian jusqu'à la proposition (jours)",
    "median_days_to_first_meeting": "Délai médian jusqu'à la première rencontre (jours)",
    "matches_followed": "Binômes en cours sur la période",
    "meetings_per_active_month": "Rencontres par mois actif",
    "closed_before_3_months": "Part arrêtée avant 3 mois",
    "closed_before_6_months": "Part arrêtée avant 6 mois",
    "retention_6_months": "Toujours en cours à 6 mois",
    "retention_12_months": "Toujours en cours à 12 mois",
    "matches_closed": "Binômes clos",
    "reach_mentored": "Jeunes accompagnés",
    "reach_mentored_share": "Part des jeunes accompagnés",
    "reach_waiting": "Jeunes en attente",
    "reach_waiting_share": "Part des jeunes en attente",
}
BREAKDOWN_LABELS: dict[str, str] = {
    "all": "tous",
    "qpv": "en QPV",
    "rural": "en zone rurale (FRR)",
    "minors": "mineurs",
    "completed": "menés à terme",
    "mentee_withdrew": "retrait du jeune",
    "mentor_withdrew": "retrait du bénévole",
    "incompatibility": "incompatibilité",
    "moved_away": "déménagement",
    "safeguarding": "protection",
    "other": "autre raison",
}


def _breakdown(breakdown: str | None) -> str:
    if breakdown is None:
        return ""
    if breakdown.startswith("need:"):
        return NEED_LABELS.get(breakdown.removeprefix("need:"), breakdown)
    return BREAKDOWN_LABELS.get(breakdown, breakdown)


def _figure(figure: indicators.Figure) -> str:
    if figure.value is None:  # withheld, or nothing to measure: the API does not say which
        return "—"
    if figure.unit == "share":
        return f"{figure.value * 100:.0f} %"
    return shown(figures.Value(figure.value))


@dataclass
class ProgrammeRow:
    id: uuid.UUID
    name: str
    departments: list[str]
    needs: list[str]
    capacity: int
    active: bool
    enrolled: int = 0
    statuses: Counter[str] = field(default_factory=Counter)


def programmes(session: Session, caller: Caller) -> list[ProgrammeRow]:
    """The caller's own programmes (every programme for an admin), with their matches
    by status: the association sees each of them through the API already."""
    stmt = select(Programme).order_by(Programme.name, Programme.id)
    if not caller.is_admin:
        stmt = stmt.where(Programme.organisation_id == caller.organisation_id)
    rows = {
        p.id: ProgrammeRow(p.id, p.name, p.departments, p.needs, p.capacity, p.active)
        for p in session.scalars(stmt)
    }
    if not rows:
        return []
    for programme_id, n in session.execute(
        select(mentee_programmes.c.programme_id, func.count())
        .where(mentee_programmes.c.programme_id.in_(rows))
        .group_by(mentee_programmes.c.programme_id)
    ):
        rows[programme_id].enrolled = int(n)
    for programme_id, status, reason, n in session.execute(
        select(Match.programme_id, Match.status, Match.close_reason, func.count())
        .where(Match.programme_id.in_(rows))
        .group_by(Match.programme_id, Match.status, Match.close_reason)
    ):
        rows[programme_id].statuses[_outcome(status, reason)] += int(n)
    return list(rows.values())


def _outcome(status: MatchStatus, reason: CloseReason | None) -> str:
    if status is MatchStatus.CLOSED:
        return "completed" if reason is CloseReason.COMPLETED else "ended_early"
    return status.value


@dataclass
class EmployeesPage:
    company: str
    registered: int
    active: int
    in_a_match: int
    outcomes: Counter[str]
    by_department: list[tuple[str, int]]


def companies(session: Session) -> list[Organisation]:
    return list(
        session.scalars(
            select(Organisation)
            .where(Organisation.kind == OrganisationKind.COMPANY)
            .order_by(Organisation.name)
        )
    )


def employees(session: Session, company_id: uuid.UUID) -> EmployeesPage | None:
    """A company's participation: its employees registered as volunteers and what
    became of their matches (counts only; nothing about the young people)."""
    company = session.get(Organisation, company_id)
    if company is None or company.kind is not OrganisationKind.COMPANY:
        return None
    mine = or_(Mentor.employer_id == company_id, Mentor.organisation_id == company_id)
    registered, active = session.execute(
        select(func.count(), func.count().filter(Mentor.active.is_(True))).where(mine)
    ).one()
    ids = select(Mentor.id).where(mine)
    engaged = session.scalar(
        select(func.count(func.distinct(Match.mentor_id))).where(
            Match.mentor_id.in_(ids),
            Match.status.in_((MatchStatus.ACCEPTED, MatchStatus.ACTIVE)),
        )
    )
    outcomes: Counter[str] = Counter()
    for status, reason, n in session.execute(
        select(Match.status, Match.close_reason, func.count())
        .where(Match.mentor_id.in_(ids))
        .group_by(Match.status, Match.close_reason)
    ):
        outcomes[_outcome(status, reason)] += int(n)
    by_department = [
        (code, int(n))
        for code, n in session.execute(
            select(Mentor.department, func.count())
            .where(mine)
            .group_by(Mentor.department)
            .order_by(Mentor.department)
        )
    ]
    return EmployeesPage(
        company.name, int(registered), int(active), int(engaged or 0), outcomes, by_department
    )


def indicators_csv(session: Session, caller: Caller, code: str) -> str:
    """The department's indicators as ``GET /v1/indicators.csv`` exports them (the same
    Table Schema, ``/v1/indicators/schema.json``)."""
    result = indicators.compute(
        session, caller, Scope(ScopeKind.DEPARTMENT, code), figures.last_year(date.today())
    )
    return export.to_csv(IndicatorsRead.of(result))
