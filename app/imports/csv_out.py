"""CSV the service produces (templates, error reports), safe to open in a spreadsheet.

A cell starting with ``= + - @``, a tab or a carriage return would be run as a formula
by spreadsheet software (CSV injection): such cells are prefixed with ``'`` (OWASP).
Imported values themselves are stored exactly as given.
"""

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def escape_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def render(rows: Iterable[Sequence[object]], separator: str = ";") -> str:
    """CSV text with a BOM (so spreadsheet software reads it as UTF-8), CRLF line ends,
    every cell escaped."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    for row in rows:
        writer.writerow([escape_cell(cell) for cell in row])
    return buffer.getvalue()
