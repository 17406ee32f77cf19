"""Fixtures of the integrity tests: the API cast and the match pairing."""

from tests.api.conftest import *  # noqa: F403 - the API cast and client fixtures
from tests.matches.conftest import pairing  # noqa: F401 - a programme, a volunteer, two young people
