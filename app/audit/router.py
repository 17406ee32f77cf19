import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from app.audit import service
from app.audit.schemas import AuditEntryRead
from app.auth.deps import CallerDep
from app.db import SessionDep
from app.pagination import Page, PageDep, page_of

router = APIRouter(prefix="/v1/audit-log", tags=["audit log"])


@router.get("", response_model=Page[AuditEntryRead])
def list_audit_entries(
    session: SessionDep,
    caller: CallerDep,
    page: PageDep,
    action: service.Action | None = None,
    record_type: service.RecordType | None = None,
    record_id: uuid.UUID | None = None,
    since: Annotated[datetime | None, Query(description="entries at or after")] = None,
    until: Annotated[datetime | None, Query(description="entries before")] = None,
) -> Page[AuditEntryRead]:
    """Every write, newest first: when, which key and organisation, which action on which
    record. Append-only (there is no route to change or delete an entry); kept
    ``BINOME_AUDIT_RETENTION_DAYS``. Admins read all; an organisation reads the entries
    about its records and those its keys made."""
    stmt = service.query(
        caller,
        action=action,
        record_type=record_type,
        record_id=record_id,
        since=since,
        until=until,
    )
    return page_of(session, stmt, page, AuditEntryRead)
