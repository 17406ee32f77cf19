"""Keeping personal values out of the logs.

- The access log (``uvicorn.access``) keeps the path and the names of query parameters,
  but only the values of parameters known to carry nothing personal (paging, statuses,
  territories, record ids): ``GET /v1/mentees?external_id=EXT-1`` is logged as
  ``GET /v1/mentees?external_id=[redacted]``. An unknown parameter is redacted too.
- Database errors are logged by what failed (SQLSTATE, constraint, table), never with
  the message PostgreSQL writes, whose ``DETAIL`` repeats the offending values
  (``Key (organisation_id, external_id)=(…, EXT-1) already exists``); the engine hides
  statement parameters from every error it raises (``hide_parameters``).
"""

import logging
from typing import Any
from urllib.parse import parse_qsl, quote

REDACTED = "[redacted]"
ACCESS_LOGGER = "uvicorn.access"

SAFE_PARAMETERS = frozenset(
    {
        "limit",
        "offset",
        "status",
        "mode",
        "need",
        "department",
        "commune",
        "active",
        "active_on",
        "kind",
        "programme_id",
        "organisation_id",
        "run_id",
        "mentor_id",
        "mentee_id",
        "provider_id",
        "employer_id",
        "reason",
        "action",
        "record_type",
        "record_id",
        "since",
        "until",
        "deactivate_missing",
    }
)
"""Query parameters whose values are kept in the access log: none describes a person
(ids are random and say nothing without the database)."""


def redact_query(path: str) -> str:
    """``path`` with the value of every query parameter outside ``SAFE_PARAMETERS``
    replaced by ``[redacted]``."""
    base, separator, query = path.partition("?")
    if not separator:
        return path
    parts = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        shown = value if name in SAFE_PARAMETERS else REDACTED
        parts.append(f"{quote(name, safe='')}={quote(shown, safe='[]:-.,')}")
    return base + "?" + "&".join(parts)


class AccessLogRedactor(logging.Filter):
    """Rewrites uvicorn's access records: ``(client, method, path, version, status)``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def install() -> None:
    """Attach the redactor to the access logger (once per process)."""
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, AccessLogRedactor) for f in access.filters):
        access.addFilter(AccessLogRedactor())


def database_error(exc: BaseException) -> str:
    """What a database error is about, without the values involved."""
    orig: Any = getattr(exc, "orig", exc)
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg: the SQLSTATE and the names, not the message
        names = [
            f"{label} {value}"
            for label, value in (
                ("constraint", diag.constraint_name),
                ("table", diag.table_name),
                ("column", diag.column_name),
            )
            if value
        ]
        return " ".join([f"{type(orig).__name__} (SQLSTATE {orig.sqlstate})", *names])
    # SQLite's messages name the constraint or the columns, never the values; they are
    # still cut to their first line.
    message = str(orig).splitlines()[0] if str(orig) else ""
    return f"{type(orig).__name__}: {message[:200]}"
