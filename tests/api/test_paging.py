"""Paging that stays fast at national scale and whose totals stay exact."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from app import pagination
from app.db import engine_for
from tests.api.conftest import Actor, mentee_payload


def _counts(db_url: str) -> tuple[list[str], object]:
    seen: list[str] = []

    def capture(_c: object, _cur: object, sql: str, *_: object) -> None:
        if "count(*)" in sql.lower():
            seen.append(sql)

    event.listen(engine_for(db_url), "before_cursor_execute", capture)
    return seen, capture


def test_totals_are_exact_and_the_last_page_needs_no_count(
    client: TestClient, association: Actor, db_url: str
) -> None:
    for _ in range(5):
        client.post("/v1/mentees", json=mentee_payload(), headers=association.headers)
    seen, capture = _counts(db_url)
    try:
        pages = [
            client.get(f"/v1/mentees?limit=2&offset={o}", headers=association.headers).json()
            for o in (0, 2, 4, 6)
        ]
    finally:
        event.remove(engine_for(db_url), "before_cursor_execute", capture)
    assert [p["total"] for p in pages] == [5, 5, 5, 5]
    assert [len(p["items"]) for p in pages] == [2, 2, 1, 0]
    assert len(seen) == 3  # full pages and the page past the end; the last one told it


def test_large_counts_are_not_repeated_on_every_page(
    client: TestClient, association: Actor, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: every page counted the whole list again (0.48 s a page at 160,000
    young people). A large total is counted once per few seconds for the same filter."""
    monkeypatch.setattr(pagination, "COUNT_CACHE_MIN_ROWS", 3)
    monkeypatch.setattr(pagination, "_counts", {})
    for _ in range(6):
        client.post("/v1/mentees", json=mentee_payload(), headers=association.headers)
    seen, capture = _counts(db_url)
    try:
        totals = [
            client.get(f"/v1/mentees?limit=2&offset={o}", headers=association.headers).json()[
                "total"
            ]
            for o in (0, 2, 0)
        ]
    finally:
        event.remove(engine_for(db_url), "before_cursor_execute", capture)
    assert totals == [6, 6, 6]
    assert len(seen) == 1
