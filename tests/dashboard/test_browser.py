"""The dashboard in a real browser: Debian's Chromium, driven by Playwright, against a
real uvicorn server on the demo territory with a year of history. Each role signs in,
loads its pages, finds what it should (and only that), nothing fails to load, and a
screenshot of every page is kept in tests/artifacts/."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import engine_for
from app.vocabulary import Role
from tests.conftest import _wipe
from tests.dashboard.conftest import demo_with_history

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parents[1] / "artifacts"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("CI", "").lower() not in ("true", "1", "yes"),
    reason="Debian's chromium is not installed (.ci/run installs it)",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


DEMO_KEYS: dict[Role, str] = {}
"""The API keys of the demo the module's server serves (random per database)."""


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server per database for all roles, so pictures drawn once are reused."""
    tmp_path = tmp_path_factory.mktemp("server")
    _wipe(database_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BINOME_DATABASE_URL", database_url)
        get_settings.cache_clear()
        with Session(engine_for(database_url)) as session:
            DEMO_KEYS.update(demo_with_history(session))
    get_settings.cache_clear()
    port = free_port()
    log = (tmp_path / "uvicorn.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env={**os.environ, "BINOME_DATABASE_URL": database_url, "BINOME_RUN_POOL_WORKERS": "1"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp_path / "uvicorn.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


class Visit:
    """One signed-in browser tab that records every failed request."""

    def __init__(self, page: Page, base: str, label: str) -> None:
        self.page, self.base, self.label = page, base, label
        self.failures: list[str] = []
        page.on("requestfailed", lambda r: self.failures.append(f"failed {r.url} {r.failure}"))
        page.on(
            "response",
            lambda r: self.failures.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )

    def open(self, path: str, name: str) -> Page:
        self.page.goto(self.base + path)
        return self.check(name)

    def check(self, name: str) -> Page:
        """Every picture of the page loaded; a screenshot kept."""
        self.page.wait_for_load_state("networkidle")
        images = self.page.locator("img").evaluate_all(
            "imgs => imgs.map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])"
        )
        assert all(ok for _, ok in images), images
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=ARTIFACTS / f"{self.label}-{name}.png", full_page=True)
        return self.page

    def text(self) -> str:
        return self.page.locator("main").inner_text()


def sign_in(browser: Browser, base: str, role: Role, label: str) -> Visit:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    visit = Visit(context.new_page(), base, f"{label}-{role.value}")
    page = visit.open("/tableau-de-bord", "connexion")
    assert page.url.endswith("/tableau-de-bord/connexion")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.fill("#cle", DEMO_KEYS[role])
    page.click("button[type=submit]")
    page.wait_for_url(base + "/tableau-de-bord")
    (cookie,) = [c for c in context.cookies() if c["name"] == "binome_session"]
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert DEMO_KEYS[role] not in cookie["value"]
    return visit


ROLE_PAGES = {
    Role.ADMIN: ["programmes", "entreprise"],
    Role.ASSOCIATION: ["programmes"],
    Role.COMPANY_HR: ["entreprise"],
    Role.PUBLIC_BODY: [],
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_its_pages_in_a_browser(
    server: str, browser: Browser, role: Role, database_url: str
) -> None:
    label = database_url.split(":")[0].split("+")[0]
    visit = sign_in(browser, server, role, label)

    national = visit.open("/tableau-de-bord", "national")
    assert "Carte nationale" in national.locator("h1").inner_text()
    assert national.locator("img.map").count() == 1
    assert "Seine-Saint-Denis (93)" in visit.text()
    national.select_option("#indicateur", "matched_share")
    national.click("form.inline button")
    national.wait_for_load_state("networkidle")
    assert "Part des jeunes suivis ayant un binôme" in national.locator("h1").inner_text()

    national.click("text=Seine-Saint-Denis (93)")
    national.wait_for_url(server + "/tableau-de-bord/departements/93")
    department = visit.check("departement-93")
    text = visit.text()
    for heading in ("Besoins et ressources", "Besoins sans réponse", "Exporter"):
        assert heading in text
    assert "Soutien scolaire" in text
    assert department.locator("img.map").count() == 2
    exports = department.locator(".exports a")
    assert exports.count() == 4
    for link in exports.all():
        href = link.get_attribute("href")
        assert href is not None
        assert visit.page.request.get(server + href).status == 200, href

    nav = national.locator("header nav").inner_text()
    assert ("programmes" in nav.lower()) == ("programmes" in ROLE_PAGES[role])
    if "programmes" in ROLE_PAGES[role]:
        programmes = visit.open("/tableau-de-bord/programmes", "programmes")
        assert programmes.locator("section h2").count() >= 1
        assert programmes.locator("section img.map").count() >= 1
    if "entreprise" in ROLE_PAGES[role]:
        company = visit.open("/tableau-de-bord/entreprise", "entreprise")
        if role is Role.ADMIN:
            company.click("text=Groupe Alto")
            visit.check("entreprise-groupe-alto")
        assert "Groupe Alto : participation des salariés" in company.locator("h1").inner_text()
        assert company.locator("img.map").count() == 1
    assert visit.failures == [], visit.failures

    # What the role may not see is refused, not shown.
    for other in {"programmes", "entreprise"} - set(ROLE_PAGES[role]):
        response = visit.page.goto(f"{server}/tableau-de-bord/{other}")
        assert response is not None
        assert response.status == 403
        assert "réservée" in visit.text()

    visit.page.goto(server + "/tableau-de-bord")
    visit.page.click("text=Se déconnecter")
    visit.page.wait_for_url(server + "/tableau-de-bord/connexion")
    visit.page.goto(server + "/tableau-de-bord/departements/93")
    assert visit.page.url.endswith("/tableau-de-bord/connexion")
