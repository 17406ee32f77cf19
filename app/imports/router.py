"""Bulk imports: ``POST /v1/mentors/import``, ``POST /v1/mentees/import``, their reports
and CSV templates. See docs/imports.md."""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import WithJsonSchema
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.auth.deps import AssociationDep, CallerDep, MentorWriterDep, require_roles
from app.auth.scope import owning_organisation
from app.auth.service import Caller
from app.config import get_settings
from app.db import SessionDep
from app.errors import PROBLEM_BASE, Forbidden, UnsupportedMediaType
from app.i18n import negotiate
from app.imports import idempotency, templates
from app.imports.models import ImportReport
from app.imports.reading import Body, multipart_file, receive
from app.imports.reports import (
    ImportParams,
    errors_csv,
    execute_import,
    query,
    report_read,
    summary,
    visible_report,
)
from app.imports.schemas import ImportReportRead, ImportSummary
from app.imports.service import check_target
from app.imports.vocabulary import ImportFormat, ImportKind, ImportMode, ImportStatus
from app.pagination import Page, PageDep, Sort, paginate, sorting
from app.problems import PROBLEM_JSON, Problem
from app.vocabulary import Role

router = APIRouter(tags=["imports"])

REPLAYED_HEADER = "Idempotency-Replayed"
MEDIA_TYPES = {
    "text/csv": ImportFormat.CSV,
    "application/csv": ImportFormat.CSV,
    "application/json": ImportFormat.JSON,
}
CSV_EXAMPLES = {
    ImportKind.MENTORS: "external_id;kind;insee;capacity;skills\r\n"
    "EMP-0042;employee;93066;2;employment|orientation\r\n",
    ImportKind.MENTEES: "external_id;birth_year;insee;activity;needs\r\n"
    "JEUNE-2025-118;2010;93066;middle_school;school_support|confidence\r\n",
    ImportKind.SUPPORTS: "external_id;first_name;last_name;birth_date;need;start_date\r\n"
    "CE93-2026-0042;Zoé-Marie;N'Diaye;2011-04-02;school_support;2026-09-01\r\n",
}
JSON_EXAMPLES: dict[ImportKind, dict[str, Any]] = {
    ImportKind.MENTORS: {
        "external_id": "EMP-0042",
        "kind": "employee",
        "location": {"insee": "93066"},
        "capacity": 2,
        "skills": ["employment", "orientation"],
    },
    ImportKind.MENTEES: {
        "external_id": "JEUNE-2025-118",
        "birth_year": 2010,
        "location": {"insee": "93066"},
        "activity": "middle_school",
        "needs": ["school_support", "confidence"],
    },
    ImportKind.SUPPORTS: {
        "external_id": "CE93-2026-0042",
        "identity": {"first_name": "Zoé-Marie", "last_name": "N'Diaye", "birth_date": "2011-04-02"},
        "need": "school_support",
        "start_date": "2026-09-01",
    },
}
# The fields a JSON record must have (the single-record API's required ones).
JSON_REQUIRED = {
    ImportKind.MENTORS: ["external_id", "kind", "skills", "location"],
    ImportKind.MENTEES: ["external_id", "birth_year", "activity", "needs", "location"],
    ImportKind.SUPPORTS: ["external_id", "identity", "need", "start_date"],
}
UNSUPPORTED_MEDIA_TYPE: dict[int | str, dict[str, Any]] = {
    415: {
        "model": Problem,
        "content": {PROBLEM_JSON: {}},
        "description": "Neither CSV nor JSON (nor a multipart upload of one), or not UTF-8. "
        f"Problem type: [`unsupported-media-type`]({PROBLEM_BASE}unsupported-media-type).",
    }
}


def import_body(kind: ImportKind) -> dict[str, Any]:
    """The request body of an import of ``kind``, with its own examples."""
    csv_example = CSV_EXAMPLES[kind]
    return {
        "requestBody": {
            "required": True,
            "description": "UTF-8 CSV (comma or semicolon separated, `|` inside list cells) "
            "or a JSON list of records shaped like the single-record API's.",
            "content": {
                "text/csv": {
                    "schema": {"type": "string", "minLength": 1},
                    "example": csv_example,
                },
                "application/json": {
                    "schema": {
                        "type": "array",
                        "items": {"type": "object", "required": JSON_REQUIRED[kind]},
                    },
                    "example": [JSON_EXAMPLES[kind]],
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": "the CSV or JSON file (`curl -F file=@young.csv`)",
                            }
                        },
                    },
                    # the part's content type tells CSV from JSON (else the file name)
                    "encoding": {"file": {"contentType": "text/csv, application/json"}},
                    "example": {"file": csv_example},
                },
            },
        }
    }


IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="replays the first response"),
    # what idempotency.check_key accepts (its 422 says it in words)
    WithJsonSchema({"type": "string", "pattern": "^[!-~]+$", "minLength": 1, "maxLength": 255}),
]
Mode = Annotated[ImportMode, Query(description="atomic: any error and nothing is written")]
OrganisationId = Annotated[
    uuid.UUID | None, Query(description="admins: the organisation imported into")
]


def import_params(
    mode: Mode = ImportMode.ATOMIC,
    deactivate_missing: Annotated[
        bool,
        Query(description="the file is the full current pool: deactivate the records it omits"),
    ] = False,
    organisation_id: OrganisationId = None,
    idempotency_key: IdempotencyKey = None,
) -> ImportParams:
    return ImportParams(mode, deactivate_missing, organisation_id, idempotency_key)


def supports_import_params(
    mode: Mode = ImportMode.ATOMIC,
    deactivate_missing: Annotated[
        bool,
        Query(description="not available for supports (false only): end them with end_date"),
        WithJsonSchema({"type": "boolean", "enum": [False]}),
    ] = False,
    organisation_id: OrganisationId = None,
    idempotency_key: IdempotencyKey = None,
) -> ImportParams:
    return ImportParams(mode, deactivate_missing, organisation_id, idempotency_key)


ImportParamsDep = Annotated[ImportParams, Depends(import_params)]
SupportsImportParamsDep = Annotated[ImportParams, Depends(supports_import_params)]
SupportWriterDep = Annotated[Caller, Depends(require_roles(Role.ASSOCIATION, Role.PUBLIC_BODY))]


@router.post(
    "/v1/mentors/import",
    response_model=ImportReportRead,
    openapi_extra=import_body(ImportKind.MENTORS),
    responses=UNSUPPORTED_MEDIA_TYPE,
    summary="Import mentors (CSV or JSON), upserting by external id",
)
async def import_mentors(
    request: Request, session: SessionDep, caller: MentorWriterDep, params: ImportParamsDep
) -> Response:
    """Upsert volunteers in bulk by external id, from CSV (UTF-8, `;` or `,`, lists
    `|`-separated; English or French headers) or a JSON list; `multipart/form-data` uploads
    are accepted too. `mode=atomic` writes nothing if a row is wrong; `mode=partial` writes
    the valid rows. `deactivate_missing` treats the file as the full pool. An `Idempotency-
    Key` makes retries safe."""
    return await _import(request, session, caller, ImportKind.MENTORS, params)


@router.post(
    "/v1/mentees/import",
    response_model=ImportReportRead,
    openapi_extra=import_body(ImportKind.MENTEES),
    responses=UNSUPPORTED_MEDIA_TYPE,
    summary="Import young people (CSV or JSON), upserting by external id",
)
async def import_mentees(
    request: Request, session: SessionDep, caller: AssociationDep, params: ImportParamsDep
) -> Response:
    """Upsert young people in bulk by external id, with the same conventions as the volunteers'
    import (CSV or JSON, atomic or partial, `deactivate_missing`, `Idempotency-Key`)."""
    return await _import(request, session, caller, ImportKind.MENTEES, params)


@router.post(
    "/v1/supports/import",
    response_model=ImportReportRead,
    openapi_extra=import_body(ImportKind.SUPPORTS),
    responses=UNSUPPORTED_MEDIA_TYPE,
    summary="Import supports declared by identity (CSV or JSON), upserting by external id",
)
async def import_supports(
    request: Request, session: SessionDep, caller: SupportWriterDep, params: SupportsImportParamsDep
) -> Response:
    """Supports the caller provides, each naming the young person by identity alone
    (first_name, last_name, birth_date: hashed, never stored); see docs/identity.md."""
    return await _import(request, session, caller, ImportKind.SUPPORTS, params)


@router.get(
    "/v1/imports/templates/{kind}.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "header and one example"}},
)
def import_template(
    kind: ImportKind,
    caller: CallerDep,
    separator: Annotated[str, Query(pattern="^(semicolon|comma)$")] = "semicolon",
    accept_language: Annotated[
        str | None,
        Header(description="column headers in French by default; `en` for English ones"),
    ] = None,
) -> Response:
    """Download the CSV template of an import: the expected columns and one example row for the
    caller's role, with French headers by default (`Accept-Language: en` for English ones)."""
    if (caller.role is Role.PUBLIC_BODY and kind is not ImportKind.SUPPORTS) or (
        caller.role is Role.COMPANY_HR and kind is not ImportKind.MENTORS
    ):
        raise Forbidden(f"role {caller.role.value} does not import {kind.value}")
    text = templates.template(
        kind,
        caller.role,
        ";" if separator == "semicolon" else ",",
        negotiate(accept_language, default="fr"),
    )
    return _csv_response(text, f"binome-{kind.value}-template.csv")


IMPORT_SORT = sorting(
    {"created_at": ImportReport.created_at, "kind": ImportReport.kind, "rows": ImportReport.rows},
    ImportReport.id,
)


@router.get("/v1/imports", response_model=Page[ImportSummary])
def list_imports(
    session: SessionDep,
    caller: CallerDep,
    page: PageDep,
    sort: Annotated[Sort, Depends(IMPORT_SORT)],
    kind: ImportKind | None = None,
    status: ImportStatus | None = None,
    organisation_id: Annotated[
        uuid.UUID | None, Query(description="admins: one organisation's imports")
    ] = None,
    created_after: Annotated[
        datetime | None, Query(description="imports made at or after (ISO 8601)")
    ] = None,
    created_before: Annotated[
        datetime | None, Query(description="imports made before (ISO 8601)")
    ] = None,
) -> Page[ImportSummary]:
    """The caller's imports (every organisation's for an admin), newest first, without
    their row errors."""
    if created_after is not None and created_after.tzinfo is None:
        created_after = created_after.replace(tzinfo=UTC)
    if created_before is not None and created_before.tzinfo is None:
        created_before = created_before.replace(tzinfo=UTC)
    stmt = query(
        caller,
        kind=kind,
        status=status,
        organisation_id=organisation_id,
        created_after=created_after,
        created_before=created_before,
    )
    rows, total = paginate(session, sort.apply(stmt), page)
    return Page[ImportSummary](
        items=[summary(r) for r in rows], total=total, limit=page.limit, offset=page.offset
    )


@router.get(
    "/v1/imports/{import_id}", response_model=ImportReportRead, response_model_exclude_none=True
)
def get_import(import_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> ImportReportRead:
    """Read an import's report: counts (created, updated, unchanged, deactivated, rejected) and
    the rejected rows with their spreadsheet row, column and message."""
    return report_read(visible_report(session, caller, import_id))


@router.get(
    "/v1/imports/{import_id}/errors.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the rejected rows"}},
)
def get_import_errors(
    import_id: uuid.UUID,
    session: SessionDep,
    caller: CallerDep,
    accept_language: Annotated[str | None, Header(description="`fr`: French messages")] = None,
) -> Response:
    """Download the rejected rows of an import as CSV, to correct them in a spreadsheet
    (messages in French with `Accept-Language: fr`)."""
    report = visible_report(session, caller, import_id)
    return _csv_response(
        errors_csv(report, negotiate(accept_language)), f"binome-import-{report.id}-errors.csv"
    )


async def _import(
    request: Request, session: Session, caller: Caller, kind: ImportKind, params: ImportParams
) -> Response:
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    limit = get_settings().max_import_bytes
    body: Body | None = None
    if media_type == "multipart/form-data":
        file_format, content_type, body = await multipart_file(request, limit)
    else:
        file_format = MEDIA_TYPES.get(media_type)
    try:
        if file_format is None:
            raise UnsupportedMediaType(
                "send the file as text/csv or application/json, or as the `file` part of a "
                f"multipart/form-data upload (got {content_type or 'nothing'})"
            )
        charset = _charset(content_type)
        if charset not in (None, "utf-8", "utf8"):
            raise UnsupportedMediaType(f"only UTF-8 is accepted (got charset={charset})")
        if params.idempotency_key is not None:
            idempotency.check_key(params.idempotency_key)
        organisation_id = owning_organisation(caller, params.organisation_id)
        await run_in_threadpool(check_target, session, kind, organisation_id)
        if body is None:
            body = await receive(request.stream(), limit, request.headers.get("content-length"))
        status, payload, replayed = await run_in_threadpool(
            execute_import, session, caller, kind, organisation_id, file_format, params, body
        )
    finally:
        if body is not None:
            body.close()
    headers = {REPLAYED_HEADER: "true"} if replayed else {}
    if status < 400 and "id" in payload:
        headers["Location"] = f"/v1/imports/{payload['id']}"
    return JSONResponse(
        payload,
        status_code=status,
        media_type=PROBLEM_JSON if status >= 400 else "application/json",
        headers=headers,
    )


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


def _csv_response(text: str, filename: str) -> Response:
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
