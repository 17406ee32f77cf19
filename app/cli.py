"""``binome`` command line: serve, migrate, create keys, load the demo territory."""

import argparse
import logging
import sys
from collections.abc import Callable

from app.config import get_settings

Command = Callable[[argparse.Namespace], int]
Configure = Callable[[argparse.ArgumentParser], None]
COMMANDS: dict[str, tuple[Command, Configure]] = {}


def _no_arguments(_: argparse.ArgumentParser) -> None:
    return None


def command(name: str, configure: Configure = _no_arguments) -> Callable[[Command], Command]:
    def register(function: Command) -> Command:
        COMMANDS[name] = (function, configure)
        return function

    return register


def _serve_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--demo", action="store_true", help="load the demo territory first")


@command("serve", _serve_args)
def serve(args: argparse.Namespace) -> int:
    """Migrate the database, optionally load the demo, then serve the API."""
    import uvicorn

    migrate_database(args)
    if args.demo:
        load_demo(args)
    uvicorn.run("app.main:app", host=args.host, port=args.port, workers=args.workers)
    return 0


@command("migrate")
def migrate_database(_: argparse.Namespace) -> int:
    """Bring the database schema to the latest migration."""
    from app import migrate

    migrate.upgrade(get_settings().database_url)
    return 0


def _key_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--organisation", default="Binôme", help="platform organisation name")
    parser.add_argument("--name", default="first admin key")


@command("create-admin-key", _key_args)
def create_admin_key(args: argparse.Namespace) -> int:
    """Create (or reuse) the platform organisation and print a new admin API key."""
    from sqlalchemy import select

    from app.auth.service import issue_key
    from app.db import new_session
    from app.organisations.models import Organisation
    from app.vocabulary import OrganisationKind, Role

    migrate_database(args)
    with new_session() as session:
        organisation = session.scalars(
            select(Organisation).where(Organisation.name == args.organisation)
        ).first()
        if organisation is None:
            organisation = Organisation(name=args.organisation, kind=OrganisationKind.PUBLIC_BODY)
            session.add(organisation)
            session.flush()
        _, key = issue_key(
            session, organisation_id=organisation.id, role=Role.ADMIN, name=args.name
        )
        session.commit()
    print(key)
    return 0


@command("demo")
def load_demo(_: argparse.Namespace) -> int:
    """Load the demo territory (idempotent) and print its API keys."""
    from app.demo import load

    migrate_database(_)
    for line in load():
        print(line)
    return 0


def _worker_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--concurrency", type=int, default=None, help="runs executed at once (default 1)"
    )


@command("worker", _worker_args)
def worker(args: argparse.Namespace) -> int:
    """Execute matching runs from the queue (PostgreSQL); start one or more per machine."""
    from app.runs.worker import run_worker

    run_worker(concurrency=args.concurrency)
    return 0


@command("status")
def status(_: argparse.Namespace) -> int:
    """Print the database, its migration, the run queue and the live workers; exit 1 if
    the service is not ready."""
    import json

    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from app.db import get_engine
    from app.migrate import at_head
    from app.runs.liveness import queue_status

    engine = get_engine()
    report: dict[str, object] = {"database": engine.url.render_as_string(hide_password=True)}
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            migrated = at_head(connection)
            report["migration"] = "latest" if migrated else "behind: run `binome migrate`"
            if migrated:
                report.update(queue_status(connection))
    except SQLAlchemyError as exc:
        report["error"] = f"database unreachable: {exc.__class__.__name__}"
        migrated = False
    print(json.dumps(report, indent=2))
    return 0 if migrated else 1


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=get_settings().log_level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="binome", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (function, configure) in COMMANDS.items():
        configure(sub.add_parser(name, help=(function.__doc__ or "").strip().splitlines()[0]))
    args = parser.parse_args(argv)
    return COMMANDS[args.command][0](args)


if __name__ == "__main__":
    sys.exit(main())
