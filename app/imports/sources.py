"""Rows as read from an import file (CSV or JSON), one at a time, before validation."""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.imports.columns import Layout, layout
from app.imports.reading import ImportFileError, json_records, open_csv
from app.imports.vocabulary import ImportFormat, ImportKind


@dataclass
class SourceRow:
    """One record as read from the file: its number as the user sees it, the JSON-shaped
    record, and cells that could not even be read."""

    row: int
    record: Any
    problems: list[tuple[str | None, str]] = field(default_factory=list)
    external_id: str | None = None
    """The external id read from a row that is otherwise unreadable (a row with too many
    or too few cells): such a row still counts as mentioned by the file."""


def csv_rows(kind: ImportKind, stream: Any) -> Iterator[SourceRow]:
    table = open_csv(stream)
    columns = layout(kind, table.header)
    return _csv_source(columns, table.rows)


def _csv_source(columns: Layout, rows: Iterable[tuple[int, list[str]]]) -> Iterator[SourceRow]:
    any_row = False
    for number, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue  # blank spreadsheet lines
        any_row = True
        if len(cells) != columns.width:
            yield SourceRow(
                number,
                None,
                [(None, f"this row has {len(cells)} cells, the header has {columns.width}")],
                _cell(cells, columns.index("external_id")),
            )
            continue
        record, problems = columns.record(cells)
        yield SourceRow(number, record, list(problems))
    if not any_row:
        raise ImportFileError("the file has a header but no rows", row=2)


def _cell(cells: list[str], index: int | None) -> str | None:
    if index is None or index >= len(cells):
        return None
    return cells[index].strip() or None


def json_rows(stream: Any) -> Iterator[SourceRow]:
    any_row = False
    for position, value in json_records(stream):
        any_row = True
        if not isinstance(value, dict):
            yield SourceRow(position, None, [(None, "each element must be a JSON object")])
        else:
            yield SourceRow(position, value)
    if not any_row:
        raise ImportFileError("the list is empty: nothing to import")


RowsFactory = Callable[[Any], Iterator[SourceRow]]


def rows_reader(kind: ImportKind, file_format: ImportFormat) -> RowsFactory:
    if file_format is ImportFormat.CSV:
        return lambda stream: csv_rows(kind, stream)
    return json_rows
