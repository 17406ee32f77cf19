"""``binome import`` and ``binome run``: the API from a terminal, with a progress bar.

They speak to a running service over HTTP with an API key (``--url``, ``--api-key`` or
``BINOME_API_KEY``), so a terminal user has exactly the rights, scope and checks of the
key, and the commands work against any deployment, not only a local database.
"""

import argparse
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from app.imports.vocabulary import ImportKind, ImportMode

FINAL = ("succeeded", "failed", "cancelled")
CHUNK = 256 * 1024

console = Console(stderr=True)

Command = Callable[[argparse.Namespace], int]
Configure = Callable[[argparse.ArgumentParser], None]
COMMANDS: dict[str, tuple[Command, Configure]] = {}
"""Added to ``app.cli``'s commands by its ``main``."""


def command(name: str, configure: Configure) -> Callable[[Command], Command]:
    def register(function: Command) -> Command:
        COMMANDS[name] = (function, configure)
        return function

    return register


def make_client(url: str, api_key: str) -> httpx.Client:
    """The HTTP client of the commands (tests substitute one bound to the application)."""
    return httpx.Client(base_url=url, headers={"X-API-Key": api_key}, timeout=300.0)


def _remote_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get("BINOME_URL", "http://127.0.0.1:8000"),
        help="the service's base URL (env BINOME_URL)",
    )
    parser.add_argument(
        "--api-key", default=None, help="API key to act with (else env BINOME_API_KEY)"
    )


def _connect(args: argparse.Namespace) -> httpx.Client:
    api_key = args.api_key or os.environ.get("BINOME_API_KEY")
    if not api_key:
        raise SystemExit("an API key is needed: --api-key or BINOME_API_KEY")
    return make_client(args.url, api_key)


def _fail(response: httpx.Response) -> int:
    try:
        problem = response.json()
    except ValueError:
        problem = {"detail": response.text}
    console.print(f"[red]error {response.status_code}[/red]: {problem.get('detail', problem)}")
    for error in (problem.get("errors") or [])[:20]:
        row = f"row {error['row']} " if error.get("row") else ""
        where = row + (error.get("column") or error.get("field") or "")
        console.print(f"  {where.strip()}: {error.get('message')}", markup=False)
    return 1


def _import_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="CSV (UTF-8, ; or ,) or JSON file")
    parser.add_argument(
        "--kind", required=True, choices=[k.value for k in ImportKind], help="what the file holds"
    )
    parser.add_argument(
        "--mode",
        default=ImportMode.ATOMIC.value,
        choices=[m.value for m in ImportMode],
        help="atomic: any error and nothing is written; partial: valid rows are written",
    )
    parser.add_argument(
        "--deactivate-missing",
        action="store_true",
        help="the file is the full current pool: deactivate the records it omits",
    )
    parser.add_argument(
        "--organisation-id", default=None, help="admins: the organisation imported into"
    )
    _remote_args(parser)


def _upload(path: Path, progress: Progress) -> Iterator[bytes]:
    task = progress.add_task(f"sending {path.name}", total=path.stat().st_size)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            progress.advance(task, len(chunk))
            yield chunk


@command("import", _import_args)
def import_file(args: argparse.Namespace) -> int:
    """Import mentors or young people from a file, through the API, with a progress bar."""
    path: Path = args.file
    if not path.is_file():
        raise SystemExit(f"no file {path}")
    content_type = "application/json" if path.suffix.lower() == ".json" else "text/csv"
    params: dict[str, str] = {"mode": args.mode}
    if args.deactivate_missing:
        params["deactivate_missing"] = "true"
    if args.organisation_id:
        params["organisation_id"] = args.organisation_id
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    with _connect(args) as client, Progress(*columns, console=console) as progress:
        response = client.post(
            f"/v1/{args.kind}/import",
            content=_upload(path, progress),
            params=params,
            headers={"content-type": content_type},
        )
    if response.status_code >= 400:
        return _fail(response)
    report = response.json()
    counts = ", ".join(f"{name} {value}" for name, value in report["counts"].items())
    print(f"import {report['id']}: {report['status']} ({counts})")
    return 0


def _run_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--departments", nargs="*", default=[], help="department codes the run covers (93 2A …)"
    )
    parser.add_argument(
        "--programme-ids", nargs="*", default=[], help="programme ids the run covers"
    )
    parser.add_argument(
        "--mode",
        default="dry_run",
        choices=["dry_run", "commit"],
        help="dry_run proposes without creating matches; commit creates them",
    )
    parser.add_argument(
        "--no-wait", action="store_true", help="print the run id and return at once"
    )
    parser.add_argument(
        "--poll", type=float, default=0.5, help="seconds between two looks at the run"
    )
    _remote_args(parser)


@command("run", _run_args)
def run_matching(args: argparse.Namespace) -> int:
    """Submit a matching run through the API and follow it with a progress bar."""
    body: dict[str, Any] = {"mode": args.mode}
    if args.departments:
        body["departments"] = args.departments
    if args.programme_ids:
        body["programme_ids"] = args.programme_ids
    with _connect(args) as client:
        response = client.post("/v1/matching-runs", json=body)
        if response.status_code >= 400:
            return _fail(response)
        run = response.json()
        if args.no_wait:
            print(run["id"])
            return 0
        run = _follow(lambda: client.get(f"/v1/matching-runs/{run['id']}"), args.poll)
    print(json.dumps(_summary(run), ensure_ascii=False))
    return 0 if run["status"] == "succeeded" else 1


def _follow(fetch: Callable[[], httpx.Response], poll: float) -> dict[str, Any]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("queued", total=100)
        while True:
            response = fetch()
            response.raise_for_status()
            run: dict[str, Any] = response.json()
            progress.update(task, completed=run["progress"], description=run["phase"])
            if run["status"] in FINAL:
                return run
            time.sleep(poll)


def _summary(run: dict[str, Any]) -> dict[str, Any]:
    stats = run.get("stats") or {}
    return {
        "id": run["id"],
        "status": run["status"],
        "mode": run["mode"],
        "diff": run.get("diff") and {k: v for k, v in run["diff"].items() if k != "withdrawn"},
        "proposals": stats.get("matched"),
        "unmatched": stats.get("unmatched"),
        "error": run.get("error"),
    }
