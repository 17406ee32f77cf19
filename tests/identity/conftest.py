"""Identity fixtures: a configured secret, and the run fixtures (cast, client, workers)."""

from collections.abc import Iterator

import pytest

from app.config import get_settings
from tests.runs.conftest import *  # noqa: F403 - the API cast, client and run executors

SECRET = "test-identity-secret-4f9c2a"


@pytest.fixture(autouse=True)
def identity_secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("BINOME_IDENTITY_SECRET", SECRET)
    monkeypatch.delenv("BINOME_IDENTITY_SECRET_FILE", raising=False)
    monkeypatch.delenv("BINOME_IDENTITY_PREVIOUS_SECRETS", raising=False)
    get_settings.cache_clear()
    yield SECRET
    get_settings.cache_clear()
