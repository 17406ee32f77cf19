"""The pictures as a person gets them: parseable SVG with every department, PNGs at the
documented sizes, and small counts withheld for everyone but admins."""

import gzip
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from tests.api.conftest import Actor, mentee_payload
from tests.maps.conftest import History

SVG = "{http://www.w3.org/2000/svg}"
OUTLINES = Path(__file__).parents[2] / "app" / "maps" / "data" / "departements-2018.geojson.gz"


def department_codes() -> set[str]:
    """Read from the vendored file itself, not through the code under test."""
    features = json.loads(gzip.decompress(OUTLINES.read_bytes()))["features"]
    return {feature["properties"]["code"] for feature in features}


def titles(svg: bytes) -> dict[str, str]:
    root = ET.fromstring(svg)
    found = {}
    for group in root.iter(f"{SVG}g"):
        gid = group.get("id", "")
        if gid.startswith("dep-"):
            title = group.find(f"{SVG}title")
            found[gid.removeprefix("dep-")] = title.text if title is not None else ""
    return found


def test_the_france_svg_parses_and_draws_every_department(
    client: TestClient, public_body: Actor, history: History
) -> None:
    response = client.get("/v1/maps/departments.svg", headers=public_body.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    drawn = titles(response.content)
    assert set(drawn) == department_codes()
    assert len(drawn) == 101
    # Every outline is a real path, not an empty group.
    root = ET.fromstring(response.content)
    for group in root.iter(f"{SVG}g"):
        if group.get("id", "").startswith("dep-"):
            path = group.find(f"{SVG}path")
            assert path is not None, group.get("id")
            assert len(path.get("d", "")) > 50, group.get("id")
    zoomed = {g.get("id") for g in root.iter(f"{SVG}g") if g.get("id", "").startswith("zoom-")}
    assert zoomed == {"zoom-75", "zoom-92", "zoom-93", "zoom-94"}  # Paris, drawn larger
    assert drawn["93"] == "Seine-Saint-Denis (93) : 7"  # ten referred, three engaged
    assert drawn["75"] == "Paris (75) : aucune donnée"
    assert "Licence Ouverte" in response.text


def test_the_france_png_renders_at_800_by_800(client: TestClient, admin: Actor) -> None:
    for indicator in ("waiting", "matched_share", "retention_6_months", "volunteers"):
        response = client.get(
            f"/v1/maps/departments.png?indicator={indicator}", headers=admin.headers
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(response.content))
        assert image.format == "PNG"
        assert image.size == (800, 800)


def test_ratios_resting_on_small_counts_are_withheld_except_for_admins(
    client: TestClient, admin: Actor, public_body: Actor, association: Actor, history: History
) -> None:
    def title(actor: Actor, indicator: str) -> str:
        url = f"/v1/maps/departments.svg?indicator={indicator}"
        return titles(client.get(url, headers=actor.headers).content)["93"]

    assert title(admin, "waiting_per_volunteer") == "Seine-Saint-Denis (93) : 1,17"
    assert title(public_body, "waiting_per_volunteer") == "Seine-Saint-Denis (93) : 1,17"
    assert title(association, "matched_share") == "Seine-Saint-Denis (93) : 30 %"
    # One early end among four matches started: 75 % kept after six months, for admins;
    # four matches is a small count, and so are the two started six months ago.
    assert title(admin, "retention_6_months") == "Seine-Saint-Denis (93) : 75 %"
    assert title(public_body, "retention_6_months").endswith("moins de 5 (masqué)")
    assert title(admin, "closed_before_6_months") == "Seine-Saint-Denis (93) : 0 %"
    assert title(association, "closed_before_6_months").endswith("moins de 5 (masqué)")


def test_a_department_map_draws_its_outline_and_communes(
    client: TestClient, admin: Actor, public_body: Actor, history: History
) -> None:
    svg = client.get("/v1/maps/departments/93.svg", headers=admin.headers)
    assert svg.status_code == 200
    root = ET.fromstring(svg.content)
    ids = {g.get("id") for g in root.iter(f"{SVG}g")}
    assert "dep-93" in ids
    assert {"neighbour-75", "neighbour-94", "neighbour-95", "neighbour-77"} <= ids
    assert "jeunes en attente" in svg.text
    png = client.get("/v1/maps/departments/93.png", headers=public_body.headers)
    assert png.status_code == 200
    assert Image.open(io.BytesIO(png.content)).size == (800, 800)
    # 2A: Corsica's codes are letters too; an overseas department draws on its own.
    for code in ("2A", "974"):
        response = client.get(f"/v1/maps/departments/{code}.png", headers=public_body.headers)
        assert response.status_code == 200, code


def test_unknown_departments_indicators_and_formats_are_named(
    client: TestClient, admin: Actor
) -> None:
    response = client.get("/v1/maps/departments/99.svg", headers=admin.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.department"
    response = client.get("/v1/maps/departments.svg?indicator=happiness", headers=admin.headers)
    assert response.status_code == 422
    assert "indicator" in response.text
    assert client.get("/v1/maps/departments.gif", headers=admin.headers).status_code == 422
    assert client.get("/v1/maps/departments.svg").status_code == 401


def test_monthly_charts_render_at_900_by_360(
    client: TestClient, admin: Actor, public_body: Actor, history: History
) -> None:
    for query in ("", "?department=93&months=24", f"?programme_id={history.programme['id']}"):
        response = client.get(f"/v1/charts/monthly.png{query}", headers=public_body.headers)
        assert response.status_code == 200, (query, response.text)
        assert Image.open(io.BytesIO(response.content)).size == (900, 360)
    svg = client.get(
        "/v1/charts/monthly.svg?department=93&series=matches_started", headers=admin.headers
    )
    ET.fromstring(svg.content)
    assert "Binômes démarrés" in svg.text
    assert "Jeunes entrés en attente" not in svg.text
    assert re.search(r"janv\. 20\d\d|déc\. 20\d\d", svg.text)


def test_employee_charts_are_for_their_company_and_admins(
    client: TestClient,
    admin: Actor,
    company: Actor,
    other_company: Actor,
    association: Actor,
    public_body: Actor,
    history: History,
) -> None:
    url = f"/v1/charts/monthly.png?employer_id={company.organisation_id}"
    assert client.get(url, headers=company.headers).status_code == 200
    assert client.get(url, headers=admin.headers).status_code == 200
    for outsider in (other_company, association, public_body):
        assert client.get(url, headers=outsider.headers).status_code == 403
    unknown = client.get(
        "/v1/charts/monthly.png?programme_id=00000000-0000-4000-8000-000000000000",
        headers=admin.headers,
    )
    assert unknown.status_code == 404


def test_a_cached_map_follows_every_change_of_its_figures(
    client: TestClient, admin: Actor, association: Actor, history: History
) -> None:
    def waiting() -> str:
        svg = client.get("/v1/maps/departments.svg", headers=admin.headers).content
        return titles(svg)["93"]

    assert waiting() == "Seine-Saint-Denis (93) : 7"
    assert waiting() == "Seine-Saint-Denis (93) : 7"  # from the cache
    created = client.post("/v1/mentees", json=mentee_payload(), headers=association.headers).json()
    assert waiting() == "Seine-Saint-Denis (93) : 8"
    erased = client.delete(f"/v1/mentees/{created['id']}", headers=association.headers)
    assert erased.status_code == 204
    assert waiting() == "Seine-Saint-Denis (93) : 7"
    patched = client.patch(
        f"/v1/mentees/{history.mentees[9]['id']}",
        json={"active": False},
        headers=association.headers,
    )
    assert patched.status_code == 200, patched.text
    assert waiting() == "Seine-Saint-Denis (93) : 6"
