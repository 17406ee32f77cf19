"""Streaming CSV in the dialect of the imports and templates (``app.imports.csv_out``):
UTF-8 with a BOM, ``;`` separated, CRLF line ends, every cell escaped against formula
injection. Rows are read from their own session with ``yield_per`` (a server-side cursor on
PostgreSQL), so memory stays flat however long the list."""

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from fastapi.responses import StreamingResponse
from sqlalchemy import Select

from app.db import new_session
from app.imports.csv_out import BOM, escape_cell

BATCH = 1000
"""Rows fetched from the cursor, and written to the client, at a time."""


def _chunks(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow([escape_cell(cell) for cell in row])
        if count % BATCH == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def query_rows(
    stmt: Select[Any], render: Callable[[Any], Sequence[object]]
) -> Iterator[Sequence[object]]:
    """The rows of ``stmt``, each rendered, read in batches from a session of their own
    (the request's session is closed once the response starts)."""
    with new_session() as session:
        result = session.execute(stmt.execution_options(yield_per=BATCH))
        for row in result:
            yield render(row)


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> StreamingResponse:
    return StreamingResponse(
        _chunks(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
