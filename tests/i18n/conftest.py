from tests.imports.conftest import *  # noqa: F403 - the API cast and the import builders
