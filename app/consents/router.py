from typing import Any

from fastapi import APIRouter
from sqlalchemy import func, select

from app.auth.deps import CallerDep
from app.consents import checks, service
from app.consents.schemas import (
    CheckConfirmation,
    Confirmation,
    EmployerRef,
    EnrolmentRef,
    PendingCheck,
    PendingEmployerLink,
    PendingEnrolment,
)
from app.db import SessionDep
from app.errors import NotFound
from app.mentors.models import Mentor
from app.pagination import Page, PageDep

router = APIRouter(prefix="/v1/consents", tags=["consents"])


def _page(session: SessionDep, stmt: Any, page: Any, build: Any) -> Any:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.execute(stmt.limit(page.limit).offset(page.offset)).all()
    return {
        "items": [build(row) for row in rows],
        "total": int(total or 0),
        "limit": page.limit,
        "offset": page.offset,
    }


@router.get("/enrolments", response_model=Page[PendingEnrolment])
def pending_enrolments(session: SessionDep, caller: CallerDep, page: PageDep) -> Any:
    """Volunteers submitted by another organisation and enrolled in the caller's
    programmes, not yet confirmed: runs leave them out until the association confirms."""
    return _page(
        session,
        service.pending_enrolments(caller),
        page,
        lambda row: {"mentor_id": row[0], "programme_id": row[1], "submitted_by": row[2]},
    )


@router.post("/enrolments/confirm", response_model=Confirmation)
def confirm_enrolment(data: EnrolmentRef, session: SessionDep, caller: CallerDep) -> Confirmation:
    """The programme's association (or an admin) accepts the volunteer in the programme."""
    confirmation = service.confirm_enrolment(session, caller, data.mentor_id, data.programme_id)
    session.commit()
    return Confirmation(
        mentor_id=data.mentor_id,
        confirmed_at=confirmation.confirmed_at if confirmation else None,
    )


@router.get("/employer-links", response_model=Page[PendingEmployerLink])
def pending_employer_links(session: SessionDep, caller: CallerDep, page: PageDep) -> Any:
    """Volunteers another organisation names as employees of the caller's company, not
    yet confirmed: HR sees their records once it confirms."""
    return _page(
        session,
        service.pending_employer_links(caller),
        page,
        lambda row: {"mentor_id": row[0], "employer_id": row[1], "submitted_by": row[2]},
    )


@router.post("/employer-links/confirm", response_model=Confirmation)
def confirm_employer(data: EmployerRef, session: SessionDep, caller: CallerDep) -> Confirmation:
    """The company's HR (or an admin) confirms that the volunteer is its employee."""
    confirmation = service.confirm_employer(session, caller, data.mentor_id)
    session.commit()
    return Confirmation(
        mentor_id=data.mentor_id,
        confirmed_at=confirmation.confirmed_at if confirmation else None,
    )


@router.get("/background-checks", response_model=Page[PendingCheck])
def pending_checks(session: SessionDep, caller: CallerDep, page: PageDep) -> Any:
    """Volunteers of another organisation enrolled in the caller's programmes whose
    declared background check the association has not confirmed up to its date: until
    it does, runs do not propose them to the programme's minors."""
    return _page(
        session,
        checks.pending_checks(caller),
        page,
        lambda row: {
            "mentor_id": row[0],
            "programme_id": row[1],
            "submitted_by": row[2],
            "declared_valid_until": row[3],
            "confirmed_valid_until": row[4],
        },
    )


@router.post("/background-checks/confirm", response_model=CheckConfirmation)
def confirm_check(data: EnrolmentRef, session: SessionDep, caller: CallerDep) -> CheckConfirmation:
    """The programme's association (or an admin), having seen the volunteer's background
    check, vouches for it up to the date the record declares."""
    confirmation = checks.confirm_check(session, caller, data.mentor_id, data.programme_id)
    session.commit()
    if confirmation is not None:
        until, at = confirmation.valid_until, confirmation.confirmed_at
    else:
        mentor = session.get(Mentor, data.mentor_id)
        if mentor is None or mentor.background_check_valid_until is None:
            raise NotFound(f"no volunteer {data.mentor_id}")
        until, at = mentor.background_check_valid_until, None
    return CheckConfirmation(
        mentor_id=data.mentor_id,
        programme_id=data.programme_id,
        confirmed_valid_until=until,
        confirmed_at=at,
    )
