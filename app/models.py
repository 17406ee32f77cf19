"""Every table of the service, for Alembic and the CLI.

Each domain package keeps its tables in its own ``models.py``; importing them all here
registers them on ``Base.metadata``.
"""

import importlib
import importlib.util
import pkgutil

import app
from app.db import Base


def load_all_models() -> None:
    for module in sorted(m.name for m in pkgutil.iter_modules(app.__path__) if m.ispkg):
        spec = importlib.util.find_spec(f"app.{module}.models")
        if spec is not None:
            importlib.import_module(f"app.{module}.models")


load_all_models()

__all__ = ["Base", "load_all_models"]
