"""Running an import in its transaction, with its idempotency record and its report,
and reading reports back. The routes in ``app.imports.router`` only speak HTTP."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.service import Action, RecordType
from app.audit.service import record as audit
from app.auth.service import Caller
from app.config import get_settings
from app.errors import NotFound, problem
from app.i18n.catalogue import labels, translate
from app.identity.supports_import import SupportImporter
from app.imports import csv_out, idempotency
from app.imports.models import ImportReport
from app.imports.reading import Body, ImportFileError
from app.imports.schemas import ImportCounts, ImportReportRead, ImportSummary, RowError
from app.imports.service import Importer, Outcome
from app.imports.sources import rows_reader
from app.imports.vocabulary import ImportFormat, ImportKind, ImportMode, ImportStatus
from app.webhooks import events
from app.webhooks.outbox import emit
from app.webhooks.vocabulary import EventType

OUTCOME_COUNTS = ("rows", "created", "updated", "unchanged", "deactivated", "rejected")


@dataclass(frozen=True)
class ImportParams:
    mode: ImportMode
    deactivate_missing: bool
    organisation_id: uuid.UUID | None
    idempotency_key: str | None


def execute_import(
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
    factory: type[Importer] | type[SupportImporter] = Importer
    if kind is ImportKind.SUPPORTS:
        factory = SupportImporter
    importer = factory(
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
    counts = {name: getattr(outcome, name) for name in OUTCOME_COUNTS}
    audit(
        session,
        Action.IMPORT,
        RecordType.IMPORT,
        report.id,
        organisation_id=organisation_id,
        counts=counts,
    )
    emit(session, EventType.IMPORT_FINISHED, **events.import_report(report))
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


def visible_report(session: Session, caller: Caller, import_id: uuid.UUID) -> ImportReport:
    stmt = select(ImportReport).where(ImportReport.id == import_id)
    if not caller.is_admin:
        stmt = stmt.where(ImportReport.organisation_id == caller.organisation_id)
    report = session.scalars(stmt).first()
    if report is None:
        raise NotFound(f"no import {import_id}")
    return report


def query(
    caller: Caller,
    *,
    kind: ImportKind | None,
    status: ImportStatus | None,
    organisation_id: uuid.UUID | None,
    created_after: datetime | None,
    created_before: datetime | None,
) -> Select[tuple[ImportReport]]:
    """Import reports the caller may read (its organisation's; all for an admin)."""
    stmt = select(ImportReport).order_by(ImportReport.created_at.desc(), ImportReport.id)
    if not caller.is_admin:
        stmt = stmt.where(ImportReport.organisation_id == caller.organisation_id)
    for column, value in (
        (ImportReport.kind, kind),
        (ImportReport.status, status),
        (ImportReport.organisation_id, organisation_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if created_after is not None:
        stmt = stmt.where(ImportReport.created_at >= created_after)
    if created_before is not None:
        stmt = stmt.where(ImportReport.created_at < created_before)
    return stmt


def summary(report: ImportReport) -> ImportSummary:
    read = report_read(report)
    return ImportSummary.model_validate(read.model_dump(exclude={"errors"}))


def errors_csv(report: ImportReport, locale: str = "en") -> str:
    """The rejected rows of an import, as CSV (cells escaped against formula injection),
    with headers and messages in ``locale``."""
    names = labels("column", locale)
    header = ["row", "column", "field", "external_id", "message"]
    rows: list[list[object]] = [[names.get(name, name) for name in header]]
    named: dict[object, object] = {}  # a row's external id is stored on its first error
    for e in report.errors:
        external_id = named.setdefault(e.get("row"), e.get("external_id"))
        message = translate(str(e.get("message", "")), locale)
        rows.append([e.get("row"), e.get("column"), e.get("field"), external_id, message])
    return csv_out.render(rows)
