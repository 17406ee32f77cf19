from tests.followup.conftest import *  # noqa: F403 - matches in a known state
