"""CSV exports: the dialect of the imports, external ids beside UUIDs, same scope."""

import csv
import io

from fastapi.testclient import TestClient

from tests.api.conftest import Actor, mentee_payload
from tests.runs.conftest import create, finished, submit


def parse(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    raw = response.content
    assert raw.startswith("\ufeff".encode())  # BOM: spreadsheets read UTF-8
    text = raw.decode("utf-8")[1:]
    assert "\r\n" in text
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_a_run_exports_its_proposals_unmatched_and_diff(
    client: TestClient, association: Actor, other_association: Actor, territory, workers
) -> None:
    formula = create(
        client,
        association,
        "/v1/mentees",
        mentee_payload(external_id='=HYPERLINK("http://x")', needs=["entrepreneurship"]),
    )
    workers.start()
    run = submit(client, association, mode="commit")
    assert finished(client, association, run["id"])["status"] == "succeeded"
    base = f"/v1/matching-runs/{run['id']}"
    h = association.headers

    proposals = parse(client.get(f"{base}/proposals.csv", headers=h))
    listed = client.get(f"{base}/proposals", headers=h).json()
    assert len(proposals) == listed["total"] > 0
    by_id = {p["id"]: p for p in listed["items"]}
    external = {m["id"]: m["external_id"] for m in territory.mentees + territory.mentors}
    for row in proposals:
        assert row["mentee_external_id"] == external[row["mentee_id"]]
        assert row["mentor_external_id"] == external[row["mentor_id"]]
        assert row["score"] == str(by_id[row["proposal_id"]]["score"])
    # The same export, asked for with Accept on the list route.
    negotiated = client.get(f"{base}/proposals", headers={**h, "accept": "text/csv"})
    assert parse(negotiated) == proposals

    unmatched = parse(client.get(f"{base}/unmatched", headers={**h, "accept": "text/csv"}))
    by_mentee = {row["mentee_id"]: row for row in unmatched}
    # A cell that a spreadsheet would run as a formula is escaped.
    assert by_mentee[formula["id"]]["mentee_external_id"] == '\'=HYPERLINK("http://x")'
    assert by_mentee[territory.unmatchable["id"]]["reason"] == "no_programme"

    diff = parse(client.get(f"{base}/diff.csv", headers=h))
    assert len(diff) == client.get(f"{base}/diff", headers=h).json()["total"]
    assert {row["change"] for row in diff} == {"new"}
    assert all(row["mentee_external_id"] for row in diff)

    # Another association reads none of it.
    for path in ("proposals.csv", "unmatched.csv", "diff.csv"):
        assert client.get(f"{base}/{path}", headers=other_association.headers).status_code == 404


def test_matches_export_follows_the_list_scope_and_filters(
    client: TestClient, association: Actor, company: Actor, territory, workers
) -> None:
    workers.start()
    run = submit(client, association, mode="commit")
    finished(client, association, run["id"])
    rows = parse(client.get("/v1/matches", headers={**association.headers, "accept": "text/csv"}))
    listed = client.get("/v1/matches", headers=association.headers).json()
    assert {r["match_id"] for r in rows} == {m["id"] for m in listed["items"]}
    assert {r["status"] for r in rows} == {"proposed"}
    assert all(r["mentee_external_id"] and r["mentor_external_id"] for r in rows)
    filtered = parse(client.get("/v1/matches.csv?status=accepted", headers=association.headers))
    assert filtered == []
    # JSON stays the default, and the first choice wins.
    assert (
        client.get("/v1/matches", headers=association.headers).headers["content-type"]
        == "application/json"
    )
    both = client.get(
        "/v1/matches", headers={**association.headers, "accept": "application/json, text/csv"}
    )
    assert both.headers["content-type"] == "application/json"
    # Company HR: the employer view's columns, and no filter on the young person.
    hr = client.get("/v1/matches.csv", headers=company.headers)
    assert "mentee_id" not in hr.content.decode("utf-8").splitlines()[0]
    assert (
        client.get("/v1/matches.csv?need=orientation", headers=company.headers).status_code == 403
    )
