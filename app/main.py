"""The HTTP application: routers, error handlers, and the run executor it starts."""

import importlib
import importlib.util
import logging
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI

import app as app_package
from app import problems
from app.config import get_settings
from app.exports.negotiation import CsvNegotiation
from app.i18n.middleware import TranslationMiddleware
from app.overload.guard import OverloadGuard, guard_options
from app.pagination import reject_unknown_query
from app.privacy import logs
from app.ratelimit import RateLimiter
from app.runs.executors import get_executor
from app.webhooks.delivery import in_service_process

logger = logging.getLogger("binome")

DESCRIPTION = """Binôme matches young people with volunteer mentors on French territories:
locally, without duplicating support they already receive, within programme capacities, and
tells each territory which needs go unanswered and why.

Authenticate with an API key in the `X-API-Key` header. Every error is
`application/problem+json` (RFC 9457). Send `Accept-Language: fr` for messages in French."""

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


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    # On SQLite the service executes runs itself: from the start, not from its first
    # submission, it must fail the runs a dead predecessor left running (they would
    # block every overlapping submission) and execute those it left queued.
    try:
        get_executor().start()
    except Exception as exc:  # e.g. database not migrated yet: /readyz tells
        logger.warning("runs left by a previous process not taken over: %r", exc)
    deliverer = in_service_process(get_settings().database_url)
    yield
    if deliverer is not None:
        deliverer.stop()
    get_executor().stop()


def create_app() -> FastAPI:
    app = FastAPI(title="Binôme", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    problems.install(app)
    # Error documents and import reports speak the caller's language (Accept-Language).
    app.add_middleware(TranslationMiddleware)
    app.add_middleware(CsvNegotiation)
    logs.install()  # personal query values never reach the access log
    app.state.rate_limiter = RateLimiter.from_settings(get_settings())
    app.add_middleware(OverloadGuard, **guard_options())
    for router in domain_routers():
        app.include_router(
            router,
            responses=problems.PROBLEM_RESPONSES,
            dependencies=[Depends(reject_unknown_query)],
        )
    return app


app = create_app()
