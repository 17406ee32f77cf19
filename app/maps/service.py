"""Pictures for a caller: figures gathered with the caller's rights, then drawn.

Every role may see the territorial pictures (aggregates only, like the territory
diagnostic), withheld as the indicators and the diagnostic withhold them for all but
admins. Charts of a company's
employees are for that company's HR and for admins; HR sees its own employees' figures
exactly, as it already sees their records, and so does an association for its own
programmes.
"""

import uuid
from datetime import date

from sqlalchemy.orm import Session

from app.auth.service import Caller
from app.errors import Forbidden, field_error
from app.geo import is_known_department
from app.maps import figures, render
from app.maps.figures import INDICATORS, Indicator, MonthlyScope, Series
from app.maps.outlines import outlines
from app.maps.render import Cell, Format
from app.programmes import service as programmes
from app.vocabulary import Role


def check_department(code: str, field: str = "path.department") -> None:
    if not is_known_department(code) or code not in outlines():
        raise field_error(field, f"unknown department {code!r}")


def france_cells(session: Session, caller: Caller, indicator: Indicator) -> list[Cell]:
    """(code, value, withheld) for every department, in code order."""
    found = figures.department_figures(session, caller.is_admin)
    cells: list[Cell] = []
    for code in outlines():
        shown = found[code].value(indicator) if code in found else figures.NO_DATA
        cells.append((code, shown.value, shown.withheld))
    return cells


def france_map(session: Session, caller: Caller, indicator: Indicator, fmt: Format) -> bytes:
    info = INDICATORS[indicator]
    return render.france(
        tuple(france_cells(session, caller, indicator)),
        info.label,
        info.share,
        info.higher_is_better,
        fmt,
    )


def department_map(session: Session, caller: Caller, code: str, fmt: Format) -> bytes:
    check_department(code)
    points = figures.commune_points(session, code, caller.is_admin)
    return render.department(
        code,
        tuple(
            (
                p.insee,
                p.name,
                p.lon,
                p.lat,
                p.waiting.value,
                p.waiting.withheld,
                p.volunteers_in_reach.value,
                p.volunteers_in_reach.withheld,
            )
            for p in points
        ),
        fmt,
    )


def chart_scope(
    caller: Caller,
    session: Session,
    department: str | None,
    programme_id: uuid.UUID | None,
    employer_id: uuid.UUID | None,
) -> tuple[MonthlyScope, bool]:
    """The scope of a chart and whether its figures are exact for this caller."""
    if department is not None:
        check_department(department, "department")
    exact = caller.is_admin
    if programme_id is not None:
        programme = programmes.get(session, programme_id)  # 404 when unknown
        # The association running it sees each of its matches through the API already.
        exact = exact or programme.organisation_id == caller.organisation_id
    if employer_id is not None:
        if caller.role is Role.COMPANY_HR and employer_id == caller.organisation_id:
            exact = True
        elif not caller.is_admin:
            raise Forbidden("only the company's HR and admins see its employees' figures")
    return (
        MonthlyScope(
            department=department,
            programme_id=str(programme_id) if programme_id is not None else None,
            employer_id=employer_id,
        ),
        exact,
    )


def monthly_chart(
    session: Session,
    scope: MonthlyScope,
    exact: bool,
    series: list[Series] | None,
    months: int,
    fmt: Format,
    today: date | None = None,
) -> bytes:
    month_list = figures.months_back(today or date.today(), months)
    values = figures.monthly(session, scope, month_list, exact)
    wanted = [s for s in (series or list(Series)) if s in values]
    title = "Suivi mensuel"
    if scope.department is not None:
        title += f" — {outlines()[scope.department].name}"
    lines = tuple(
        (
            figures.SERIES_LABELS[s],
            tuple(v.value for v in values[s]),
            tuple(v.withheld for v in values[s]),
        )
        for s in wanted
    )
    return render.chart(title, tuple(month_list), lines, fmt)
