"""The dashboard's pages, in French, at ``/tableau-de-bord`` (not part of the API schema).

Signing in exchanges an API key for a session cookie (HttpOnly, SameSite=Strict, Secure
over HTTPS) holding a signed token, never the key. Every page and picture is then built
with that key's caller, so a page shows exactly what the key may read through the API.
"""

import csv
import io
import uuid
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from app.auth.service import Caller
from app.dashboard import sessions, views
from app.db import SessionDep
from app.errors import AppError
from app.geo import is_known_department
from app.maps import service as maps
from app.maps.figures import INDICATORS, SERIES_LABELS, Indicator
from app.maps.outlines import outlines
from app.maps.render import MEDIA_TYPES, Format
from app.vocabulary import Role

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["count"] = views.count
templates.env.globals.update(
    NEEDS=views.NEED_LABELS,
    REASONS=views.REASON_LABELS,
    ROLES=views.ROLE_LABELS,
    INDICATORS=INDICATORS,
    SERIES=SERIES_LABELS,
    Role=Role,
)

router = APIRouter(prefix="/tableau-de-bord", include_in_schema=False)
HOME = "/tableau-de-bord"
SIGN_IN = "/tableau-de-bord/connexion"
# No script anywhere; styles and pictures only from here.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def signed_in(request: Request, session: SessionDep) -> Caller | None:
    return sessions.caller_of(session, request.cookies.get(sessions.COOKIE))


MaybeCaller = Annotated[Caller | None, Depends(signed_in)]


def page(
    request: Request, name: str, caller: Caller | None, status: int = 200, **context: Any
) -> Response:
    response = templates.TemplateResponse(
        request, name, {"caller": caller, **context}, status_code=status
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def to_sign_in() -> Response:
    return RedirectResponse(SIGN_IN, status_code=303)


def refused(request: Request, caller: Caller, message: str, status: int = 403) -> Response:
    return page(request, "refus.html", caller, status=status, message=message)


@router.get("/style.css")
def stylesheet() -> FileResponse:
    return FileResponse(HERE / "templates" / "style.css", media_type="text/css")


@router.get("/connexion")
def sign_in_form(request: Request, caller: MaybeCaller) -> Response:
    if caller is not None:
        return RedirectResponse(HOME, status_code=303)
    return page(request, "connexion.html", None)


async def posted_key(request: Request) -> str:
    """The ``cle`` field of a urlencoded form (read here: no multipart parser needed)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return parse_qs(body).get("cle", [""])[0].strip()


@router.post("/connexion")
def sign_in(
    request: Request, session: SessionDep, key: Annotated[str, Depends(posted_key)]
) -> Response:
    try:
        _, token, lifetime = sessions.sign_in(session, key)
    except AppError:
        return page(request, "connexion.html", None, status=401, error="Clé inconnue ou révoquée.")
    response = RedirectResponse(HOME, status_code=303)
    response.set_cookie(
        sessions.COOKIE,
        token,
        max_age=lifetime,
        path=HOME,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )
    return response


@router.post("/deconnexion")
def sign_out() -> Response:
    response = to_sign_in()
    response.delete_cookie(sessions.COOKIE, path=HOME, httponly=True, samesite="strict")
    return response


@router.get("")
def home(
    request: Request,
    session: SessionDep,
    caller: MaybeCaller,
    indicateur: Indicator = Indicator.WAITING,
) -> Response:
    if caller is None:
        return to_sign_in()
    rows = views.national(session, caller)
    return page(request, "national.html", caller, rows=rows, indicator=indicateur)


@router.get("/departements/{code}")
def department(request: Request, session: SessionDep, caller: MaybeCaller, code: str) -> Response:
    if caller is None:
        return to_sign_in()
    if not is_known_department(code) or code not in outlines():
        return refused(request, caller, f"Département inconnu : {code}", status=404)
    view = views.department(session, caller, code)
    return page(request, "departement.html", caller, view=view)


@router.get("/programmes")
def programmes(request: Request, session: SessionDep, caller: MaybeCaller) -> Response:
    if caller is None:
        return to_sign_in()
    if caller.role not in (Role.ASSOCIATION, Role.ADMIN):
        return refused(request, caller, "Cette page est réservée aux associations.")
    return page(request, "programmes.html", caller, rows=views.programmes(session, caller))


@router.get("/entreprise")
def company(
    request: Request,
    session: SessionDep,
    caller: MaybeCaller,
    entreprise: uuid.UUID | None = None,
) -> Response:
    if caller is None:
        return to_sign_in()
    if caller.role is Role.COMPANY_HR:
        company_id: uuid.UUID | None = caller.organisation_id
    elif caller.is_admin:
        company_id = entreprise
    else:
        return refused(request, caller, "Cette page est réservée aux RH des entreprises.")
    if company_id is None:
        return page(
            request, "entreprise.html", caller, view=None, companies=views.companies(session)
        )
    view = views.employees(session, company_id)
    if view is None:
        return refused(request, caller, "Entreprise inconnue.", status=404)
    return page(request, "entreprise.html", caller, view=view, company_id=company_id)


def picture(content: bytes, fmt: Format) -> Response:
    return Response(
        content, media_type=MEDIA_TYPES[fmt], headers={"Cache-Control": "private, max-age=300"}
    )


def unauthenticated() -> Response:
    return JSONResponse({"title": "non connecté"}, status_code=401)


@router.get("/images/france.{fmt}")
def france_picture(
    fmt: Format, session: SessionDep, caller: MaybeCaller, indicateur: Indicator = Indicator.WAITING
) -> Response:
    if caller is None:
        return unauthenticated()
    return picture(maps.france_map(session, caller, indicateur, fmt), fmt)


@router.get("/images/departements/{code}.{fmt}")
def department_picture(
    code: str, fmt: Format, session: SessionDep, caller: MaybeCaller
) -> Response:
    if caller is None:
        return unauthenticated()
    return picture(maps.department_map(session, caller, code, fmt), fmt)


@router.get("/images/mensuel.{fmt}")
def monthly_picture(
    fmt: Format,
    session: SessionDep,
    caller: MaybeCaller,
    departement: Annotated[str | None, Query(max_length=3)] = None,
    programme: uuid.UUID | None = None,
    entreprise: uuid.UUID | None = None,
) -> Response:
    if caller is None:
        return unauthenticated()
    scope, exact = maps.chart_scope(caller, session, departement, programme, entreprise)
    return picture(maps.monthly_chart(session, scope, exact, None, 12, fmt), fmt)


@router.get("/export/departements.csv")
def national_export(session: SessionDep, caller: MaybeCaller) -> Response:
    """The national table, one department a line, every indicator (as the page shows it:
    withheld figures are ``< 5``)."""
    if caller is None:
        return unauthenticated()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["departement", "nom", *[i.value for i in INDICATORS]])
    for row in views.national(session, caller):
        writer.writerow([row.code, row.name, *[row.values[i] for i in INDICATORS]])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="departements.csv"'},
    )


@router.get("/export/departements/{code}.json")
def department_export(code: str, session: SessionDep, caller: MaybeCaller) -> Response:
    """The department's diagnostic, as ``GET /v1/territories/departments/{code}``."""
    if caller is None:
        return unauthenticated()
    maps.check_department(code)
    view = views.department(session, caller, code)
    return Response(
        view.diagnostic.model_dump_json(indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="departement-{code}.json"'},
    )


@router.get("/export/indicateurs/{code}.csv")
def indicators_export(code: str, session: SessionDep, caller: MaybeCaller) -> Response:
    """The department's indicators over the last 12 months, as ``/v1/indicators.csv``."""
    if caller is None:
        return unauthenticated()
    maps.check_department(code)
    return Response(
        views.indicators_csv(session, caller, code),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="indicateurs-{code}.csv"',
            "Link": '</v1/indicators/schema.json>; rel="describedby"',
        },
    )
