"""``binome`` command line: serve, migrate, create keys, load the demo territory, run
workers, import files and run matchings through the API."""

import argparse
import importlib.metadata
import logging
import os
import sys
from collections.abc import Callable

from app.config import get_settings

Command = Callable[[argparse.Namespace], int]
Configure = Callable[[argparse.ArgumentParser], None]
COMMANDS: dict[str, tuple[Command, Configure]] = {}


def version() -> str:
    try:
        return importlib.metadata.version("binome")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - not installed
        return "unknown"


def _no_arguments(_: argparse.ArgumentParser) -> None:
    return None


def command(name: str, configure: Configure = _no_arguments) -> Callable[[Command], Command]:
    def register(function: Command) -> Command:
        COMMANDS[name] = (function, configure)
        return function

    return register


def _serve_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", "1")),
        help="HTTP worker processes (env WEB_CONCURRENCY)",
    )
    parser.add_argument(
        "--forwarded-allow-ips",
        default=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        help="proxies whose X-Forwarded-For/-Proto headers are trusted, comma-separated, "
        "or * (env FORWARDED_ALLOW_IPS)",
    )
    parser.add_argument("--demo", action="store_true", help="load the demo territory first")


@command("serve", _serve_args)
def serve(args: argparse.Namespace) -> int:
    """Migrate the database, optionally load the demo, then serve the API."""
    import uvicorn

    migrate_database(args)
    if args.demo and load_demo(args) != 0:
        print("serving the database as it is", file=sys.stderr)
    uvicorn.run(
        "app.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    return 0


@command("migrate")
def migrate_database(_: argparse.Namespace) -> int:
    """Bring the database schema to the latest migration."""
    from app import migrate

    migrate.upgrade(get_settings().database_url)
    return 0


def _key_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--organisation", default="Binôme", help="platform organisation name")
    parser.add_argument("--name", default="first admin key", help="the key's name")


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
    """Load the demo territory into an empty database and print its new API keys once."""
    from app.demo import DatabaseNotEmpty, key_lines, load

    migrate_database(_)
    try:
        keys = load()
    except DatabaseNotEmpty as exc:
        print(f"demo not loaded: {exc}", file=sys.stderr)
        return 1
    for line in key_lines(keys):
        print(line)
    return 0


def _purge_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--apply", action="store_true", help="erase (default: dry run)")
    parser.add_argument(
        "--days", type=int, default=None, help="inactivity period (default BINOME_RETENTION_DAYS)"
    )


@command("purge", _purge_args)
def purge(args: argparse.Namespace) -> int:
    """Erase the people inactive for the retention period (dry run unless --apply)."""
    from app.db import new_session
    from app.privacy.retention import purge as run_purge

    if args.days is not None and args.days < 1:
        print("--days must be at least 1", file=sys.stderr)
        return 2
    migrate_database(args)
    with new_session() as session:
        report = run_purge(session, apply=args.apply, retention_days=args.days)
        session.commit()
    print(report.summary())
    return 0


def _worker_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="runs executed at once (default: BINOME_RUN_WORKER_CONCURRENCY, 1)",
    )


@command("worker", _worker_args)
def worker(args: argparse.Namespace) -> int:
    """Execute matching runs from the queue (PostgreSQL); start one or more per machine."""
    from app.runs.worker import run_worker

    run_worker(concurrency=args.concurrency)
    return 0


def _rotate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--secret-file",
        default=None,
        help="key file to update (default: BINOME_IDENTITY_SECRET_FILE; without one, the "
        "new settings are printed)",
    )
    parser.add_argument(
        "--retire", type=int, default=None, metavar="VERSION", help="retire an older key version"
    )


@command("rotate-identity-secret", _rotate_args)
def rotate_identity_secret(args: argparse.Namespace) -> int:
    """Add a new identity key version (older hashes stay valid), or retire an old one."""
    from pathlib import Path

    from app.db import new_session
    from app.identity.keys import KeyConfigurationError
    from app.identity.rotation import retire, rotate

    migrate_database(args)
    settings = get_settings()
    name = args.secret_file or settings.identity_secret_file
    secret_file = Path(name) if name else None
    with new_session() as session:
        try:
            if args.retire is not None:
                orphaned = retire(session, settings, args.retire, secret_file)
                session.commit()
                print(f"identity key {args.retire} retired; {orphaned} record(s) had no other "
                      "hash and are no longer linked until given their identity again")  # fmt: skip
                return 0
            rotated = rotate(session, settings, secret_file)
            session.commit()
        except KeyConfigurationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    version = rotated.key.version
    if rotated.secret_file is not None:
        print(f"identity key {version} added to {rotated.secret_file}; restart the service "
              "and workers to use it")  # fmt: skip
        return 0
    previous = ",".join(f"{k.version}:{k.secret.decode()}" for k in rotated.previous)
    print(f"BINOME_IDENTITY_SECRET={rotated.key.secret.decode()}")
    print(f"BINOME_IDENTITY_KEY_VERSION={version}")
    if previous:
        print(f"BINOME_IDENTITY_PREVIOUS_SECRETS={previous}")
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
    from app import cli_api

    commands = {**COMMANDS, **cli_api.COMMANDS}
    parser = argparse.ArgumentParser(prog="binome", description=__doc__)
    parser.add_argument("--version", action="version", version=f"binome {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (function, configure) in commands.items():
        doc = (function.__doc__ or "").strip()
        configure(
            sub.add_parser(
                name,
                help=doc.splitlines()[0],
                description=doc,
                formatter_class=argparse.ArgumentDefaultsHelpFormatter,
            )
        )
    args = parser.parse_args(argv)
    return commands[args.command][0](args)


if __name__ == "__main__":
    sys.exit(main())
