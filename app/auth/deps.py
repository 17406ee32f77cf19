"""FastAPI dependencies: the authenticated caller and role gates."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from app.audit.service import remember_caller
from app.auth.service import Caller, authenticate
from app.db import SessionDep
from app.errors import Forbidden, Unauthenticated
from app.ratelimit import RateLimiter
from app.vocabulary import Role

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def current_caller(
    request: Request,
    session: SessionDep,
    api_key: Annotated[str | None, Security(api_key_header)],
) -> Caller:
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    address = request.client.host if request.client else "unknown"
    if limiter is not None:
        limiter.refuse_locked_out(address)
    try:
        caller = authenticate(session, api_key)
    except Unauthenticated:
        if limiter is not None:
            limiter.count_failure(address)
        raise
    if limiter is not None:
        limiter.count_request(caller.key_id)
    remember_caller(session, caller)  # the audit log records who acted
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]


def require_roles(*roles: Role) -> Callable[[Caller], Caller]:
    allowed = frozenset(roles) | {Role.ADMIN}

    def gate(caller: CallerDep) -> Caller:
        if caller.role not in allowed:
            raise Forbidden(f"role {caller.role.value} may not call this endpoint")
        return caller

    return gate


AdminDep = Annotated[Caller, Depends(require_roles(Role.ADMIN))]
AssociationDep = Annotated[Caller, Depends(require_roles(Role.ASSOCIATION))]
MentorWriterDep = Annotated[Caller, Depends(require_roles(Role.ASSOCIATION, Role.COMPANY_HR))]
