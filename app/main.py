"""The HTTP application: routers, error handlers."""

import importlib
import importlib.util
import pkgutil

from fastapi import APIRouter, FastAPI

import app as app_package
from app import problems

DESCRIPTION = """Binôme matches young people with volunteer mentors on French territories:
locally, without duplicating support they already receive, within programme capacities, and
tells each territory which needs go unanswered and why.

Authenticate with an API key in the `X-API-Key` header. Every error is
`application/problem+json` (RFC 9457)."""

# Routers are discovered: every domain package with a ``router.py`` exposing ``router``.
FIRST = ("health", "auth", "organisations", "programmes", "mentors", "mentees", "supports")


def domain_routers() -> list[APIRouter]:
    packages = [m.name for m in pkgutil.iter_modules(app_package.__path__) if m.ispkg]
    ordered = [p for p in FIRST if p in packages] + sorted(set(packages) - set(FIRST))
    routers = []
    for package in ordered:
        if importlib.util.find_spec(f"app.{package}.router") is not None:
            routers.append(importlib.import_module(f"app.{package}.router").router)
    return routers


def create_app() -> FastAPI:
    app = FastAPI(title="Binôme", version="0.1.0", description=DESCRIPTION)
    problems.install(app)
    for router in domain_routers():
        app.include_router(router, responses=problems.PROBLEM_RESPONSES)
    return app


app = create_app()
