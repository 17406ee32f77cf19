import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from app.auth.deps import CallerDep
from app.db import SessionDep
from app.fields import DepartmentCode
from app.maps import service
from app.maps.figures import Indicator, Series
from app.maps.render import MEDIA_TYPES, Format

router = APIRouter(tags=["maps"])

PICTURE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/svg+xml": {}, "image/png": {}}, "description": "the picture"}
}
# Pictures depend on live figures: a browser may keep one a few minutes, no proxy may.
CACHE_CONTROL = "private, max-age=300"


def picture(content: bytes, fmt: Format) -> Response:
    return Response(content, media_type=MEDIA_TYPES[fmt], headers={"Cache-Control": CACHE_CONTROL})


@router.get("/v1/maps/departments.{fmt}", response_class=Response, responses=PICTURE)
def france_map(
    fmt: Format,
    session: SessionDep,
    caller: CallerDep,
    indicator: Indicator = Indicator.WAITING,
) -> Response:
    """A choropleth of France by department (overseas departments as insets), as SVG or
    PNG (800 × 800 px). In the SVG, each department is a group ``id="dep-<code>"`` whose
    ``<title>`` gives its name and figure. Figures are the cells the indicators and the
    territory diagnostic publish (docs/maps.md): what they withhold (small counts and
    their complements) is withheld here too (hatched grey), except for admins."""
    return picture(service.france_map(session, caller, indicator, fmt), fmt)


@router.get("/v1/maps/departments/{department}.{fmt}", response_class=Response, responses=PICTURE)
def department_map(
    department: Annotated[DepartmentCode, Path(examples=["93"])],
    fmt: Format,
    session: SessionDep,
    caller: CallerDep,
) -> Response:
    """One department (800 × 800 px PNG) with its communes as points: young people
    waiting for a mentor (filled discs) and available volunteers whose travel distance
    reaches the commune (rings), sized by count; small counts withheld except for admins."""
    return picture(service.department_map(session, caller, department, fmt), fmt)


@router.get("/v1/charts/monthly.{fmt}", response_class=Response, responses=PICTURE)
def monthly_chart(
    fmt: Format,
    session: SessionDep,
    caller: CallerDep,
    department: Annotated[DepartmentCode | None, Query(examples=["93"])] = None,
    programme_id: uuid.UUID | None = None,
    employer_id: Annotated[
        uuid.UUID | None, Query(description="a company: its employees' matches (HR and admin)")
    ] = None,
    series: Annotated[list[Series] | None, Query()] = None,
    months: Annotated[int, Query(ge=1, le=36)] = 12,
) -> Response:
    """Monthly series (900 × 360 px PNG): young people entering the wait, matches
    started, active at the end of the month, ended before their term. Withheld months
    (counts from 1 to 4, except for admins) are gaps marked with a grey cross."""
    scope, exact = service.chart_scope(caller, session, department, programme_id, employer_id)
    return picture(service.monthly_chart(session, scope, exact, series, months, fmt), fmt)
