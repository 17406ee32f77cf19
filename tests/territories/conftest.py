from tests.runs.conftest import *  # noqa: F403 - runs, executors and the API cast
