"""The last active admin key, and the organisation holding it, cannot be removed."""

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import ApiKey
from app.db import engine_for
from app.vocabulary import OrganisationKind, Role
from tests.api.conftest import Actor, Cast


def key_ids(client: TestClient, admin: Actor) -> dict[str, str]:
    items = client.get("/v1/api-keys?limit=500", headers=admin.headers).json()["items"]
    return {
        k["id"]: k["organisation_id"]
        for k in items
        if k["role"] == "admin" and k["revoked_at"] is None
    }


def test_an_admin_cannot_delete_its_own_organisation_when_it_holds_the_last_admin_key(
    client: TestClient, admin: Actor
) -> None:
    response = client.delete(f"/v1/organisations/{admin.organisation_id}", headers=admin.headers)
    assert response.status_code == 409, response.text
    assert "last active admin key" in response.json()["detail"]
    assert client.get("/v1/api-keys", headers=admin.headers).status_code == 200


def test_the_last_admin_key_cannot_be_revoked_but_one_of_two_can(
    client: TestClient, admin: Actor, cast: Cast
) -> None:
    [own] = key_ids(client, admin)
    response = client.post(f"/v1/api-keys/{own}/revoke", headers=admin.headers)
    assert response.status_code == 409, response.text
    second = cast.actor(OrganisationKind.PUBLIC_BODY, Role.ADMIN, "Préfecture")
    assert client.post(f"/v1/api-keys/{own}/revoke", headers=admin.headers).status_code == 200
    # The second admin is now the last one, and its organisation cannot be deleted either.
    [last] = key_ids(client, second)
    assert client.post(f"/v1/api-keys/{last}/revoke", headers=second.headers).status_code == 409
    deleted = client.delete(f"/v1/organisations/{second.organisation_id}", headers=second.headers)
    assert deleted.status_code == 409
    # An organisation without admin keys is deleted as before.
    assert (
        client.delete(
            f"/v1/organisations/{admin.organisation_id}", headers=second.headers
        ).status_code
        == 204
    )


def test_two_admins_revoking_each_other_at_once_leave_one(
    client: TestClient, admin: Actor, cast: Cast, db_url: str
) -> None:
    other = cast.actor(OrganisationKind.PUBLIC_BODY, Role.ADMIN, "Préfecture")
    keys = key_ids(client, admin)
    mine = next(k for k, org in keys.items() if org == str(admin.organisation_id))
    theirs = next(k for k, org in keys.items() if org == str(other.organisation_id))

    def revoke(args: tuple[Actor, str]) -> int:
        actor, key = args
        return client.post(f"/v1/api-keys/{key}/revoke", headers=actor.headers).status_code

    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(revoke, [(admin, theirs), (other, mine)]))
    assert codes in ([200, 401], [200, 409])
    with Session(engine_for(db_url)) as session:
        active = session.scalars(
            select(ApiKey.id).where(ApiKey.role == Role.ADMIN, ApiKey.revoked_at.is_(None))
        ).all()
    assert len(active) == 1
