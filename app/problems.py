"""One renderer for every error: RFC 9457 ``application/problem+json``."""

import logging
import re
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    OperationalError,
)
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from app.errors import PROBLEM_BASE, AppError, UnsupportedMediaType, problem
from app.privacy import logs

logger = logging.getLogger("binome")

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5
"""``Retry-After`` of a 503 (database unreachable)."""
HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Missing or invalid API key"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error response."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


# The errors every operation may answer, with the problem types behind each status; each
# type has a page (docs/problems/<code>.md, published under PROBLEM_BASE).
DOCUMENTED_PROBLEMS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (400, "Malformed request", ("malformed-json", "bad-request")),
    (401, "Missing or invalid API key", ("unauthenticated",)),
    (403, "Role not allowed, or a filter this role may not use", ("forbidden",)),
    (404, "Unknown record, or outside the caller's scope", ("not-found",)),
    (409, "Conflict with the current state", ("conflict",)),
    (
        422,
        "Invalid fields, each named in `errors`",
        ("validation-error", "unstorable-value", "import-rejected", "invalid-import-file"),
    ),
    (503, "Unavailable for a moment: retry after `Retry-After`", ("database-unavailable",)),
)


def _described(title: str, codes: tuple[str, ...]) -> str:
    links = ", ".join(f"[`{code}`]({PROBLEM_BASE}{code})" for code in codes)
    return f"{title}. Problem types: {links}."


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": _described(t, c)}
    for status, t, c in DOCUMENTED_PROBLEMS
}


def respond(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_JSON, headers=headers)


def field_path(loc: tuple[int | str, ...]) -> str:
    """``("body", "location", "insee")`` → ``location.insee``; list indexes as ``[i]``."""
    parts = list(loc[1:]) if loc and loc[0] == "body" else list(loc)
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "body"


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        errors.append({"field": field_path(tuple(error.get("loc", ()))), "message": message})
    return errors


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method served at the request's path, as the OpenAPI document states it. A
    path written out (``/v1/mentors/import``) shadows the templates it also fits
    (``/v1/mentors/{mentor_id}``). Starlette's own 405 names the methods of the first
    route matching the path only (``GET`` where the same path also has ``PATCH`` and
    ``DELETE`` routes). Routes outside the document (the dashboard) are asked directly."""
    path = scope["path"]
    found = [(params, methods) for regex, params, methods in _templates(app) if regex.match(path)]
    if found:
        fewest = min(params for params, _ in found)
        served = set().union(*(methods for params, methods in found if params == fewest))
    else:
        served = {
            method
            for method in METHODS
            if any(
                route.matches({**scope, "method": method})[0] is Match.FULL
                for route in app.router.routes
            )
        }
    return [method for method in METHODS if method in served]


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _templates(app: FastAPI) -> list[tuple[re.Pattern[str], int, set[str]]]:
    """The OpenAPI paths as patterns, with their number of parameters and methods."""
    cached = getattr(app.state, "path_templates", None)
    if cached is None:
        cached = []
        for template, operations in app.openapi().get("paths", {}).items():
            parts = re.split(r"(\{[^}]+\})", template)
            regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
            methods = {m.upper() for m in operations if m.upper() in METHODS}
            cached.append((re.compile(f"^{regex}$"), template.count("{"), methods))
        app.state.path_templates = cached
    return cached


def method_not_allowed(app: FastAPI, request: Request) -> JSONResponse | None:
    """405 when the path is served but not with this method (None otherwise)."""
    allowed = allowed_methods(app, request.scope)
    if not allowed or request.method in allowed:
        return None
    code, title = HTTP_TITLES[405]
    detail = f"{request.method} is not allowed here; allowed: {', '.join(allowed)}"
    return respond(problem(405, code, title, detail), {"Allow": ", ".join(allowed)})


def install(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> JSONResponse:
        # ``DELETE /v1/mentors/import?mode=atomic`` reaches ``DELETE /v1/mentors/{mentor_id}``
        # and fails there (on the query parameters the import declares), where the path
        # written out only serves POST.
        if (answer := method_not_allowed(app, request)) is not None:
            return answer
        return respond(exc.to_problem(), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # ``DELETE /v1/mentors/import`` reaches ``DELETE /v1/mentors/{mentor_id}`` and
        # fails on the id, where the path written out only serves POST.
        if (answer := method_not_allowed(app, request)) is not None:
            return answer
        if any(error.get("type") == "json_invalid" for error in exc.errors()):
            return respond(malformed_json(_json_detail(exc)))
        if _body_not_declared_json(exc):
            media_type = request.headers.get("content-type", "").split(";")[0].strip()
            return respond(
                UnsupportedMediaType(
                    "send the body as JSON with Content-Type: application/json "
                    f"(got {media_type or 'no Content-Type'})"
                ).to_problem()
            )
        errors = validation_errors(exc)
        detail = (
            errors[0]["field"] + ": " + errors[0]["message"]
            if len(errors) == 1
            else (f"{len(errors)} invalid fields")
        )
        return respond(problem(422, "validation-error", "Invalid input", detail, errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            # FastAPI could not decode a JSON body: it answers a bare 400 "error parsing
            # the body", where malformed JSON is a ``malformed-json`` problem.
            bad = exc.__cause__
            return respond(
                malformed_json(
                    "the request body is not valid JSON: invalid UTF-8 "
                    f"(byte 0x{bad.object[bad.start]:02x} at position {bad.start})"
                )
            )
        code, title = HTTP_TITLES.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such route"
        if exc.status_code == 405 and (answer := method_not_allowed(app, request)) is not None:
            return answer
        return respond(problem(exc.status_code, code, title, detail), dict(exc.headers or {}))

    @app.exception_handler(IntegrityError)
    async def integrity_error(_: Request, exc: IntegrityError) -> JSONResponse:
        logger.info("integrity error: %s", logs.database_error(exc))
        return respond(
            problem(
                409,
                "conflict",
                "Conflict with existing data",
                "the change conflicts with existing records (duplicate external id, "
                "or a record still referenced elsewhere)",
            )
        )

    @app.exception_handler(DataError)
    async def data_error(_: Request, exc: DataError) -> JSONResponse:
        # Input that passed validation but that the database refuses (a NUL character, a
        # number out of the column's range): nothing was written.
        logger.warning("data error: %s", logs.database_error(exc))
        return respond(
            problem(
                422,
                "unstorable-value",
                "Invalid input",
                "a value cannot be stored (for instance a NUL character or an out-of-range number)",
            )
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(DisconnectionError)
    async def database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        # The database cannot be reached (server down, network, a lock held too long):
        # nothing was written, and the same request may succeed shortly.
        logger.error("database unavailable: %s", type(exc).__name__)
        return respond(
            problem(
                503,
                "database-unavailable",
                "Service unavailable",
                "the database cannot be reached at the moment; nothing was written, "
                f"retry in {RETRY_AFTER_SECONDS} seconds",
            ),
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        # The traceback's frames, not the exception's message: a database error's message
        # may repeat the values of the request.
        logger.error(
            "unhandled error: %s\n%s",
            logs.database_error(exc) if isinstance(exc, DBAPIError) else type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        return respond(problem(500, "internal-error", "Internal error", "an unexpected error"))


def malformed_json(detail: str) -> dict[str, Any]:
    return problem(400, "malformed-json", "Malformed JSON", detail)


def _body_not_declared_json(exc: RequestValidationError) -> bool:
    """The route expects JSON but the request declared another media type (or none):
    FastAPI then validates the raw bytes, and every body error only says so."""
    return isinstance(exc.body, bytes) and any(
        tuple(error.get("loc", ()))[:1] == ("body",) for error in exc.errors()
    )


def _json_detail(exc: RequestValidationError) -> str:
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            ctx = error.get("ctx") or {}
            return f"the request body is not valid JSON: {ctx.get('error', 'parse error')}"
    return "the request body is not valid JSON"
