from tests.runs.conftest import *  # noqa: F403 - the API cast, territory and executors
