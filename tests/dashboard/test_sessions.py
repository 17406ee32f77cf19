"""Signing in to the dashboard: what the cookie holds and when a session ends."""

from fastapi.testclient import TestClient

from tests.api.conftest import Actor

FORM = {"content-type": "application/x-www-form-urlencoded"}


def sign_in(client: TestClient, key: str) -> str:
    response = client.post(
        "/tableau-de-bord/connexion", content=f"cle={key}", headers=FORM, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return response.headers["set-cookie"]


def test_the_cookie_is_httponly_strict_and_never_holds_the_key(
    client: TestClient, public_body: Actor
) -> None:
    cookie = sign_in(client, public_body.key)
    assert cookie.startswith("binome_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain HTTP here
    assert public_body.key not in cookie
    page = client.get("/tableau-de-bord")
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text


def test_over_https_the_cookie_is_secure(db_url: str, public_body: Actor) -> None:
    from app.main import create_app

    with TestClient(create_app(), base_url="https://testserver") as secure:
        assert "Secure" in sign_in(secure, public_body.key)


def test_a_wrong_key_is_refused_with_a_message(client: TestClient) -> None:
    response = client.post("/tableau-de-bord/connexion", content="cle=bnm_nope", headers=FORM)
    assert response.status_code == 401
    assert "Clé inconnue ou révoquée" in response.text
    assert "set-cookie" not in response.headers


def test_a_tampered_token_or_a_revoked_key_ends_the_session(
    client: TestClient, association: Actor, admin: Actor
) -> None:
    sign_in(client, association.key)
    token = client.cookies["binome_session"]
    assert client.get("/tableau-de-bord/programmes").status_code == 200
    key_id, expiry, signature = token.split(".")
    for forged in (
        f"{key_id}.{int(expiry) + 3600}.{signature}",  # a longer life
        f"{key_id}.{expiry}.{signature[:-2]}AA",
        "not-a-token",
        f"{key_id}.{expiry}",
    ):
        client.cookies.set("binome_session", forged, path="/tableau-de-bord")
        response = client.get("/tableau-de-bord/programmes", follow_redirects=False)
        assert response.status_code == 303, forged
        assert response.headers["location"] == "/tableau-de-bord/connexion"
        assert client.get("/tableau-de-bord/images/france.svg").status_code == 401
    client.cookies.set("binome_session", token, path="/tableau-de-bord")
    assert client.get("/tableau-de-bord/programmes").status_code == 200
    revoked = client.post(f"/v1/api-keys/{key_id}/revoke", headers=admin.headers)
    assert revoked.status_code == 200, revoked.text
    response = client.get("/tableau-de-bord/programmes", follow_redirects=False)
    assert response.status_code == 303


def test_an_expired_session_ends(
    client: TestClient, public_body: Actor, monkeypatch: object
) -> None:
    import time

    sign_in(client, public_body.key)
    later = time.time() + 9 * 3600  # sessions last 8 hours
    monkeypatch.setattr(time, "time", lambda: later)  # type: ignore[attr-defined]
    response = client.get("/tableau-de-bord", follow_redirects=False)
    assert response.status_code == 303
