"""The engine stays framework-free: no web framework, ORM or validation library."""

import ast
import pathlib
import subprocess
import sys

import app.matching

FORBIDDEN = {"fastapi", "starlette", "sqlalchemy", "pydantic", "pydantic_settings", "alembic"}
PACKAGE = pathlib.Path(app.matching.__file__).parent


def imported_roots(path: pathlib.Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_module_imports_a_framework():
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 5
    for path in modules:
        assert not imported_roots(path) & FORBIDDEN, path.name


def test_importing_the_engine_loads_no_framework():
    code = (
        "import sys, app.matching; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN)!r}))"
    )
    root = PACKAGE.parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "[]"
