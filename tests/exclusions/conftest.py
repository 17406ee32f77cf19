"""Exclusion tests reuse the run fixtures (a territory, the executors)."""

from tests.runs.conftest import *  # noqa: F403 - the API cast, territory and workers
