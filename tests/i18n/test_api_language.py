"""The API answers in French when asked (Accept-Language: fr), in English otherwise."""

import csv
import io

from fastapi.testclient import TestClient

from tests.api.conftest import Actor, mentee_payload
from tests.imports.conftest import mentor_row, post_import, to_csv

FR = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}


def test_authentication_errors_in_french_and_english(client: TestClient) -> None:
    french = client.get("/v1/mentees", headers=FR)
    assert french.status_code == 401
    assert french.headers["content-type"] == "application/problem+json"
    assert french.headers["content-language"] == "fr"
    assert french.json()["title"] == "Clé d'API absente ou invalide"
    assert french.json()["detail"] == "envoyez une clé d'API dans l'en-tête X-API-Key"
    english = client.get("/v1/mentees")
    assert english.json()["detail"] == "send an API key in the X-API-Key header"
    assert "content-language" not in english.headers


def test_validation_errors_name_fields_in_french(client: TestClient, association: Actor) -> None:
    payload = mentee_payload(location={"insee": "99999"}, max_travel_km=-1)
    response = client.post("/v1/mentees", json=payload, headers={**association.headers, **FR})
    assert response.status_code == 422
    body = response.json()
    messages = {error["field"]: error["message"] for error in body["errors"]}
    assert messages["max_travel_km"].startswith("La valeur doit être supérieure")
    assert body["title"] == "Saisie invalide"
    unknown = client.post(
        "/v1/mentees",
        json=mentee_payload(location={"insee": "99999"}),
        headers={**association.headers, **FR},
    ).json()
    assert unknown["detail"] == "location.insee : code commune INSEE inconnu '99999'"
    # The codes a program reads stay the same in every language.
    assert unknown["type"].endswith("/validation-error")
    assert unknown["errors"][0]["field"] == "location.insee"


def test_routing_errors_in_french(client: TestClient, association: Actor) -> None:
    missing = client.get("/v1/nowhere", headers={**association.headers, **FR})
    assert (missing.status_code, missing.json()["detail"]) == (404, "cette route n'existe pas")
    wrong = client.put("/v1/mentees", headers={**association.headers, **FR})
    assert wrong.status_code == 405
    assert wrong.json()["title"] == "Méthode non autorisée"


def test_import_reports_and_error_files_in_french(client: TestClient, association: Actor) -> None:
    rows = [mentor_row("M-1"), mentor_row("M-2", insee="99999", capacity="9")]
    report = post_import(
        client, association, "mentors", to_csv(rows), mode="partial", headers=FR
    ).json()
    assert report["counts"]["rejected"] == 1
    messages = [error["message"] for error in report["errors"]]
    assert "code commune INSEE inconnu '99999'" in messages
    assert any(m.startswith("La valeur doit être inférieure ou égale à") for m in messages)
    errors_file = client.get(
        f"/v1/imports/{report['id']}/errors.csv", headers={**association.headers, **FR}
    )
    table = list(csv.reader(io.StringIO(errors_file.content.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == ["ligne", "colonne", "champ", "identifiant_externe", "message"]
    assert "code commune INSEE inconnu '99999'" in {row[-1] for row in table[1:]}
    # The stored report is language-neutral: read back in English, it is English.
    english = client.get(f"/v1/imports/{report['id']}", headers=association.headers).json()
    assert "unknown INSEE commune code '99999'" in [e["message"] for e in english["errors"]]


def test_a_file_level_import_error_in_french(client: TestClient, association: Actor) -> None:
    response = post_import(
        client, association, "mentors", "external_id,kindd\r\nM-1,volunteer\r\n", headers=FR
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("colonne inconnue 'kindd' (vouliez-vous dire")


def test_french_headers_import_like_english_ones(client: TestClient, association: Actor) -> None:
    english = to_csv([mentor_row("M-EN")])
    french_header = (
        "identifiant_externe,type,code_insee,distance_max_km,a_distance,capacite,"
        "competences,langues,honorabilite_valide_jusqu_au\r\n"
    )
    french = french_header + "M-FR,volunteer,93066,10,oui,2,school_support,fr,2030-01-01\r\n"
    for body in (english, french):
        response = post_import(client, association, "mentors", body)
        assert response.status_code == 200, response.text
        assert response.json()["counts"]["created"] == 1


def test_successful_answers_are_the_same_in_every_language(
    client: TestClient, association: Actor
) -> None:
    created = client.post("/v1/mentees", json=mentee_payload(), headers=association.headers)
    path = f"/v1/mentees/{created.json()['id']}"
    french = client.get(path, headers={**association.headers, **FR})
    assert french.json() == client.get(path, headers=association.headers).json()
    assert "Accept-Language" in french.headers["vary"]
