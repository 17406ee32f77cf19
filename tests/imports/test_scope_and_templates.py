"""Who may import what, where; reading reports back; the CSV templates."""

import csv
import io

import pytest
from fastapi.testclient import TestClient

from tests.imports.conftest import Actor, listed, mentee_row, mentor_row, post_import, to_csv


def employee_row(external_id: str, **overrides: str) -> dict[str, str]:
    return mentor_row(external_id, kind="employee", **overrides)


def test_hr_imports_its_own_employees(client: TestClient, company: Actor) -> None:
    response = post_import(client, company, "mentors", to_csv([employee_row("EMP-1")]))
    assert response.status_code == 200, response.text
    mentor = listed(client, company, "mentors")[0]
    assert mentor["employer_id"] == str(company.organisation_id)
    assert mentor["organisation_id"] == str(company.organisation_id)


def test_hr_cannot_import_into_another_company(
    client: TestClient, company: Actor, other_company: Actor
) -> None:
    response = post_import(
        client,
        company,
        "mentors",
        to_csv([employee_row("EMP-1")]),
        organisation_id=other_company.organisation_id,
    )
    assert response.status_code == 403
    assert listed(client, other_company, "mentors") == []


def test_hr_rows_naming_another_employer_or_kind_are_rejected(
    client: TestClient, company: Actor, other_company: Actor
) -> None:
    rows = [
        employee_row("EMP-1", employer_id=str(other_company.organisation_id)),
        mentor_row("VOL-1"),
    ]
    response = post_import(client, company, "mentors", to_csv(rows))
    assert response.status_code == 422
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [
        (2, "employer_id"),
        (3, "kind"),
    ]


def test_hr_never_touches_mentees(client: TestClient, company: Actor) -> None:
    response = post_import(client, company, "mentees", to_csv([mentee_row("J-1")]))
    assert response.status_code == 403
    assert (
        client.get("/v1/imports/templates/mentees.csv", headers=company.headers).status_code == 403
    )


def test_hr_deactivate_missing_spares_mentors_submitted_by_others(
    client: TestClient, admin: Actor, association: Actor, company: Actor
) -> None:
    by_association = [employee_row("EMP-9", employer_id=str(company.organisation_id))]
    response = post_import(client, association, "mentors", to_csv(by_association))
    assert response.status_code == 200, response.text
    post_import(client, company, "mentors", to_csv([employee_row("EMP-1")]))
    response = post_import(
        client, company, "mentors", to_csv([employee_row("EMP-2")]), deactivate_missing=True
    )
    assert response.json()["counts"]["deactivated"] == 1
    active = {m["external_id"]: m["active"] for m in listed(client, admin, "mentors")}
    assert active == {"EMP-1": False, "EMP-2": True, "EMP-9": True}


def test_public_bodies_import_nothing(client: TestClient, public_body: Actor) -> None:
    assert (
        post_import(client, public_body, "mentors", to_csv([mentor_row("M-1")])).status_code == 403
    )
    assert (
        post_import(client, public_body, "mentees", to_csv([mentee_row("J-1")])).status_code == 403
    )


def test_association_cannot_import_into_another_one(
    client: TestClient, association: Actor, other_association: Actor
) -> None:
    response = post_import(
        client,
        association,
        "mentees",
        to_csv([mentee_row("J-1")]),
        organisation_id=other_association.organisation_id,
    )
    assert response.status_code == 403


def test_admin_names_the_organisation(
    client: TestClient, admin: Actor, association: Actor, company: Actor
) -> None:
    missing = post_import(client, admin, "mentors", to_csv([mentor_row("M-1")]))
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "organisation_id"
    rows = to_csv([employee_row("EMP-1", employer_id=str(company.organisation_id))])
    response = post_import(client, admin, "mentors", rows, organisation_id=company.organisation_id)
    assert response.status_code == 200, response.text
    assert listed(client, company, "mentors")[0]["external_id"] == "EMP-1"
    mentees = post_import(
        client,
        admin,
        "mentees",
        to_csv([mentee_row("J-1")]),
        organisation_id=association.organisation_id,
    )
    assert mentees.status_code == 200
    assert len(listed(client, association, "mentees")) == 1


def test_admin_cannot_refer_young_people_from_a_company(
    client: TestClient, admin: Actor, company: Actor
) -> None:
    response = post_import(
        client,
        admin,
        "mentees",
        to_csv([mentee_row("J-1")]),
        organisation_id=company.organisation_id,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "organisation_id"


def test_admin_import_into_unknown_organisation_is_404(client: TestClient, admin: Actor) -> None:
    response = post_import(
        client,
        admin,
        "mentors",
        to_csv([mentor_row("M-1")]),
        organisation_id="8d0e5f3c-0000-4000-8000-000000000000",
    )
    assert response.status_code == 404


def test_json_record_naming_another_organisation_is_rejected(
    client: TestClient, association: Actor, other_association: Actor
) -> None:
    from tests.api.conftest import mentor_payload

    records = [mentor_payload(organisation_id=str(other_association.organisation_id))]
    response = post_import(client, association, "mentors", records)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "organisation_id"


def test_reports_are_scoped_to_the_organisation(
    client: TestClient, admin: Actor, association: Actor, other_association: Actor, company: Actor
) -> None:
    import_id = post_import(client, association, "mentors", to_csv([mentor_row("M-1")])).json()[
        "id"
    ]
    path = f"/v1/imports/{import_id}"
    assert client.get(path, headers=association.headers).json()["counts"]["created"] == 1
    assert client.get(path, headers=admin.headers).status_code == 200
    for outsider in (other_association, company):
        assert client.get(path, headers=outsider.headers).status_code == 404
        assert client.get(f"{path}/errors.csv", headers=outsider.headers).status_code == 404
    assert (
        client.get(
            "/v1/imports/8d0e5f3c-0000-4000-8000-000000000000", headers=admin.headers
        ).status_code
        == 404
    )


def _template(
    client: TestClient, actor: Actor, kind: str, language: str | None = None, **params: str
) -> list[list[str]]:
    headers = {**actor.headers, **({"Accept-Language": language} if language else {})}
    response = client.get(f"/v1/imports/templates/{kind}.csv", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    separator = "," if params.get("separator") == "comma" else ";"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=separator))


@pytest.mark.parametrize(
    ("actor_name", "kind"),
    [("association", "mentors"), ("association", "mentees"), ("company", "mentors")],
)
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (None, {"identifiant_externe", "code_insee", "code_postal", "programmes", "langues"}),
        ("fr-FR,fr;q=0.9", {"identifiant_externe", "code_insee", "langues"}),
        ("en", {"external_id", "insee", "postcode", "lat", "lon", "programme_ids", "languages"}),
    ],
)
def test_templates_import_as_they_are(
    client: TestClient,
    request: pytest.FixtureRequest,
    actor_name: str,
    kind: str,
    language: str | None,
    expected: set[str],
) -> None:
    """Templates come with French headers unless English is asked for; both import."""
    actor: Actor = request.getfixturevalue(actor_name)
    header, example = _template(client, actor, kind, language)
    assert expected <= set(header)
    assert len(example) == len(header)
    headers = {**actor.headers, **({"Accept-Language": language} if language else {})}
    response = client.get(f"/v1/imports/templates/{kind}.csv", headers=headers)
    imported = post_import(client, actor, kind, response.content)
    assert imported.status_code == 200, imported.text
    assert imported.json()["counts"]["created"] == 1


def test_template_examples_differ_by_role(
    client: TestClient, association: Actor, company: Actor
) -> None:
    header, hr_example = _template(client, company, "mentors", "en")
    _, association_example = _template(client, association, "mentors", "en", separator="comma")
    kind = header.index("kind")
    assert (hr_example[kind], association_example[kind]) == ("employee", "volunteer")


def test_templates_escape_formula_cells() -> None:
    from app.imports import csv_out

    assert csv_out.escape_cell("=1+1") == "'=1+1"
    assert csv_out.escape_cell("-2") == "'-2"
    assert csv_out.escape_cell("EMP-42") == "EMP-42"
    text = csv_out.render([["@SUM(A1)", "+33 1", "\tx", "ok"]])
    assert text == "\ufeff'@SUM(A1);'+33 1;'\tx;ok\r\n"
