import uuid
from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from app.auth import service
from app.auth.deps import AdminDep
from app.db import SessionDep
from app.pagination import Page, PageDep, page_of
from app.vocabulary import Role

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "organisation_id": "0b5e4e55-3f4e-4a51-9a0c-3c1f3e6c2a10",
                    "role": "association",
                    "name": "Back-office Proxité 93",
                }
            ]
        },
    )

    organisation_id: uuid.UUID
    role: Role
    name: str = Field(min_length=1, max_length=200, examples=["Back-office Proxité 93"])


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organisation_id: uuid.UUID
    role: Role
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyIssued(ApiKeyRead):
    key: str = Field(description="shown once; only its digest is stored")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyIssued)
def issue_api_key(data: ApiKeyCreate, session: SessionDep, _: AdminDep) -> ApiKeyIssued:
    """Issue a new API key for an organisation (admins). The key is shown once, in this answer;
    only its SHA-256 digest is stored. The role must suit the organisation's kind (an
    association key for an association, HR for a company, public body for a public body)."""
    key, plaintext = service.issue_key(
        session, organisation_id=data.organisation_id, role=data.role, name=data.name
    )
    session.commit()
    return ApiKeyIssued.model_validate(
        {**ApiKeyRead.model_validate(key).model_dump(), "key": plaintext}
    )


@router.get("", response_model=Page[ApiKeyRead])
def list_api_keys(
    session: SessionDep, _: AdminDep, page: PageDep, organisation_id: uuid.UUID | None = None
) -> Page[ApiKeyRead]:
    """API keys, oldest first, revoked ones included (never the key itself)."""
    return page_of(session, service.keys_query(organisation_id), page, ApiKeyRead)


@router.post("/{key_id}/revoke", response_model=ApiKeyRead)
def revoke_api_key(key_id: uuid.UUID, session: SessionDep, _: AdminDep) -> ApiKeyRead:
    """Revoke an API key (admins): it stops authenticating at once. The last active admin key
    cannot be revoked (409)."""
    key = service.revoke_key(session, key_id)
    session.commit()
    return ApiKeyRead.model_validate(key)
