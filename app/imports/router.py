"""Bulk imports: ``POST /v1/mentors/import``, ``POST /v1/mentees/import``, their reports
and CSV templates. See docs/imports.md."""

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.auth.deps import AssociationDep, CallerDep, MentorWriterDep
from app.auth.scope import owning_organisation
from app.auth.service import Caller
from app.config import get_settings
from app.db import SessionDep
from app.errors import Forbidden, NotFound, UnsupportedMediaType, problem
from app.imports import csv_out, idempotency, templates
from app.imports.models import ImportReport
from app.imports.reading import Body, ImportFileError, receive
from app.imports.schemas import ImportCounts, ImportReportRead, RowError
from app.imports.service import Importer, Outcome, check_target
from app.imports.sources import rows_reader
from app.imports.vocabulary import ImportFormat, ImportKind, ImportMode, ImportStatus
from app.problems import PROBLEM_JSON
from app.vocabulary import Role

router = APIRouter(tags=["imports"])

REPLAYED_HEADER = "Idempotency-Replayed"
MEDIA_TYPES = {
    "text/csv": ImportFormat.CSV,
    "application/csv": ImportFormat.CSV,
    "application/json": ImportFormat.JSON,
}
IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "UTF-8 CSV (comma or semicolon separated, `|` inside list cells) "
        "or a JSON list of records shaped like the single-record API's.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        },
    }
}


@dataclass(frozen=True)
class ImportParams:
    mode: ImportMode
    deactivate_missing: bool
    organisation_id: uuid.UUID | None
    idempotency_key: str | None


def import_params(
    mode: Annotated[
        ImportMode, Query(description="atomic: any error and nothing is written")
    ] = ImportMode.ATOMIC,
    deactivate_missing: Annotated[
        bool,
        Query(description="the file is the full current pool: deactivate the records it omits"),
    ] = False,
    organisation_id: Annotated[
        uuid.UUID | None, Query(description="admins: the organisation imported into")
    ] = None,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", description="replays the first response")
    ] = None,
) -> ImportParams:
    return ImportParams(mode, deactivate_missing, organisation_id, idempotency_key)


ImportParamsDep = Annotated[ImportParams, Depends(import_params)]


@router.post(
    "/v1/mentors/import",
    response_model=ImportReportRead,
    openapi_extra=IMPORT_BODY,
    summary="Import mentors (CSV or JSON), upserting by external id",
)
async def import_mentors(
    request: Request, session: SessionDep, caller: MentorWriterDep, params: ImportParamsDep
) -> Response:
    return await _import(request, session, caller, ImportKind.MENTORS, params)


@router.post(
    "/v1/mentees/import",
    response_model=ImportReportRead,
    openapi_extra=IMPORT_BODY,
    summary="Import young people (CSV or JSON), upserting by external id",
)
async def import_mentees(
    request: Request, session: SessionDep, caller: AssociationDep, params: ImportParamsDep
) -> Response:
    return await _import(request, session, caller, ImportKind.MENTEES, params)


@router.get(
    "/v1/imports/templates/{kind}.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "header and one example"}},
)
def import_template(
    kind: ImportKind,
    caller: CallerDep,
    separator: Annotated[str, Query(pattern="^(semicolon|comma)$")] = "semicolon",
) -> Response:
    if caller.role is Role.PUBLIC_BODY or (
        caller.role is Role.COMPANY_HR and kind is ImportKind.MENTEES
    ):
        raise Forbidden(f"role {caller.role.value} does not import {kind.value}")
    text = templates.template(kind, caller.role, ";" if separator == "semicolon" else ",")
    return _csv_response(text, f"binome-{kind.value}-template.csv")


@router.get(
    "/v1/imports/{import_id}", response_model=ImportReportRead, response_model_exclude_none=True
)
def get_import(import_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> ImportReportRead:
    return report_read(_visible_report(session, caller, import_id))


@router.get(
    "/v1/imports/{import_id}/errors.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the rejected rows"}},
)
def get_import_errors(import_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> Response:
    report = _visible_report(session, caller, import_id)
    rows: list[list[object]] = [["row", "column", "field", "external_id", "message"]]
    rows.extend(
        [e.get("row"), e.get("column"), e.get("field"), e.get("external_id"), e.get("message")]
        for e in report.errors
    )
    return _csv_response(csv_out.render(rows), f"binome-import-{report.id}-errors.csv")


# --- Implementation --------------------------------------------------------------------


async def _import(
    request: Request, session: Session, caller: Caller, kind: ImportKind, params: ImportParams
) -> Response:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    file_format = MEDIA_TYPES.get(media_type)
    if file_format is None:
        raise UnsupportedMediaType(
            f"send the file as text/csv or application/json (got {media_type or 'nothing'})"
        )
    charset = _charset(request.headers.get("content-type", ""))
    if charset not in (None, "utf-8", "utf8"):
        raise UnsupportedMediaType(f"only UTF-8 is accepted (got charset={charset})")
    if params.idempotency_key is not None:
        idempotency.check_key(params.idempotency_key)
    organisation_id = owning_organisation(caller, params.organisation_id)
    await run_in_threadpool(check_target, session, kind, organisation_id)
    body = await receive(
        request.stream(), get_settings().max_import_bytes, request.headers.get("content-length")
    )
    try:
        status, payload, replayed = await run_in_threadpool(
            _execute, session, caller, kind, organisation_id, file_format, params, body
        )
    finally:
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


def _execute(
    session: Session,
    caller: Caller,
    kind: ImportKind,
    organisation_id: uuid.UUID,
    file_format: ImportFormat,
    params: ImportParams,
    body: Body,
) -> tuple[int, dict[str, Any], bool]:
    """Run the import in the request's transaction and commit once: the data (unless
    rejected), the report and the idempotency record land together."""
    key = params.idempotency_key
    fingerprint = idempotency.fingerprint(
        kind, organisation_id, params.mode, params.deactivate_missing, file_format, body.sha256
    )
    if key is not None:
        replay = idempotency.begin(session, caller.organisation_id, key, fingerprint)
        if replay is not None:
            return replay.status, replay.body, True
    settings = get_settings()
    importer = Importer(
        session,
        caller,
        kind=kind,
        organisation_id=organisation_id,
        mode=params.mode,
        file_format=file_format,
        deactivate_missing=params.deactivate_missing,
        batch_size=settings.import_batch_size,
        max_errors=settings.import_max_errors,
    )
    report_id: uuid.UUID | None = None
    try:
        outcome = importer.run(rows_reader(kind, file_format)(body.file))
    except ImportFileError as exc:
        session.rollback()
        status, payload = exc.status, exc.to_problem()
    else:
        rejected = params.mode is ImportMode.ATOMIC and outcome.rejected > 0
        if rejected:
            session.rollback()
        report = _record(session, caller, kind, organisation_id, file_format, params, outcome)
        report_id = report.id
        status, payload = _response(report, rejected)
    if key is None:
        session.commit()
        return status, payload, False
    try:
        idempotency.finish(
            session, caller.organisation_id, key, fingerprint, status, payload, report_id
        )
        session.commit()
    except IntegrityError:
        # Only after a rollback (nothing written): a concurrent request with the same key
        # stored its response first; answer with it.
        session.rollback()
        replay = idempotency.begin(session, caller.organisation_id, key, fingerprint)
        if replay is None:  # pragma: no cover - the other request vanished
            session.rollback()
            return status, payload, False
        return replay.status, replay.body, True
    return status, payload, False


def _record(
    session: Session,
    caller: Caller,
    kind: ImportKind,
    organisation_id: uuid.UUID,
    file_format: ImportFormat,
    params: ImportParams,
    outcome: Outcome,
) -> ImportReport:
    rejected = params.mode is ImportMode.ATOMIC and outcome.rejected > 0
    report = ImportReport(
        organisation_id=organisation_id,
        kind=kind,
        mode=params.mode,
        format=file_format,
        status=ImportStatus.REJECTED if rejected else ImportStatus.COMPLETED,
        deactivate_missing=params.deactivate_missing,
        rows=outcome.rows,
        created=outcome.created,
        updated=outcome.updated,
        unchanged=outcome.unchanged,
        deactivated=outcome.deactivated,
        rejected=outcome.rejected,
        errors=outcome.errors,
        errors_truncated=outcome.errors_truncated,
        requested_by=caller.key_id,
    )
    session.add(report)
    session.flush()
    return report


def report_read(report: ImportReport) -> ImportReportRead:
    return ImportReportRead(
        id=report.id,
        organisation_id=report.organisation_id,
        kind=report.kind,
        mode=report.mode,
        format=report.format,
        status=report.status,
        deactivate_missing=report.deactivate_missing,
        counts=ImportCounts(
            rows=report.rows,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            deactivated=report.deactivated,
            rejected=report.rejected,
        ),
        errors=[RowError.model_validate(error) for error in report.errors],
        errors_truncated=report.errors_truncated,
        created_at=report.created_at,
    )


def _response(report: ImportReport, rejected: bool) -> tuple[int, dict[str, Any]]:
    read = report_read(report).model_dump(mode="json", exclude_none=True)
    if not rejected:
        return 200, read
    rows = report.rejected
    detail = (
        f"{rows} row{'s' if rows > 1 else ''} of {report.rows} "
        f"{'are' if rows > 1 else 'is'} invalid; nothing was written (atomic mode)"
    )
    extra = {key: read[key] for key in ("counts", "errors", "errors_truncated")}
    body = problem(422, "import-rejected", "Import rejected", detail, import_id=read["id"], **extra)
    return 422, body


def _visible_report(session: Session, caller: Caller, import_id: uuid.UUID) -> ImportReport:
    stmt = select(ImportReport).where(ImportReport.id == import_id)
    if not caller.is_admin:
        stmt = stmt.where(ImportReport.organisation_id == caller.organisation_id)
    report = session.scalars(stmt).first()
    if report is None:
        raise NotFound(f"no import {import_id}")
    return report


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
