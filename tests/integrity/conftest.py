"""Fixtures of the integrity tests: the API cast, the match pairing, the run executors."""

from tests.matches.conftest import pairing  # noqa: F401 - a programme, a volunteer, two young people
from tests.runs.conftest import *  # noqa: F403 - the API cast, client, territory and workers
