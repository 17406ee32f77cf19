"""Which organisation a new record belongs to, given who creates it."""

import uuid

from app.auth.service import Caller
from app.errors import Forbidden, field_error


def owning_organisation(caller: Caller, requested: uuid.UUID | None) -> uuid.UUID:
    """Admins name the owner; everyone else writes only into their own organisation."""
    if caller.is_admin:
        if requested is None:
            raise field_error("organisation_id", "required when an admin creates a record")
        return requested
    if requested is not None and requested != caller.organisation_id:
        raise Forbidden("you may only write records of your own organisation")
    return caller.organisation_id
