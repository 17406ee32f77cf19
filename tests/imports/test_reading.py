"""Parsing units: separators, cells, column mapping, JSON streaming (no database)."""

import io

import pytest

from app.imports.columns import Cell, column_for, convert, layout
from app.imports.reading import ImportFileError, json_records, open_csv, sniff_separator
from app.imports.vocabulary import ImportKind


@pytest.mark.parametrize(
    ("line", "separator"),
    [("external_id;kind;skills\r\n", ";"), ("external_id,kind,skills\n", ","), ("a\n", ",")],
)
def test_separator_is_sniffed_from_the_header(line: str, separator: str) -> None:
    assert sniff_separator(line) == separator


def test_row_numbers_follow_the_spreadsheet_with_multiline_cells() -> None:
    data = b'external_id;note\r\nA;"two\r\nlines"\r\nB;x\r\n'
    table = open_csv(io.BytesIO(b"\xef\xbb\xbf" + data))
    assert table.header == ["external_id", "note"]
    assert list(table.rows) == [(2, ["A", "two\r\nlines"]), (3, ["B", "x"])]


@pytest.mark.parametrize(
    ("cell", "text", "value"),
    [
        (Cell.BOOL, "Oui", True),
        (Cell.BOOL, "FAUX", False),
        (Cell.BOOL, "0", False),
        (Cell.DATE, "1/7/2027", "2027-07-01"),
        (Cell.DATE, "2027-07-01", "2027-07-01"),
        (Cell.DECIMAL, "48,85", "48.85"),
        (Cell.LIST, "fr| en |", ["fr", "en"]),
        (Cell.TEXT, "=1+1", "=1+1"),
    ],
)
def test_cells_are_converted(cell: Cell, text: str, value: object) -> None:
    assert convert(cell, text) == value


def test_unreadable_boolean_names_the_accepted_words() -> None:
    with pytest.raises(ValueError, match="oui/non"):
        convert(Cell.BOOL, "maybe")


@pytest.mark.parametrize(
    ("field", "column"),
    [
        ("location.postcode", "postcode"),
        ("location", "insee"),
        ("skills[3]", "skills"),
        ("programme_ids[0]", "programme_ids"),
        ("organisation_id", None),
    ],
)
def test_fields_map_to_columns(field: str, column: str | None) -> None:
    assert column_for(field, ImportKind.MENTORS) == column


def test_header_is_case_and_space_tolerant() -> None:
    columns = layout(
        ImportKind.MENTEES, [" External_ID", "BIRTH_YEAR", "postcode", "activity", "needs"]
    )
    assert [c.name for c in columns.columns][:2] == ["external_id", "birth_year"]


def test_header_without_location_is_rejected() -> None:
    with pytest.raises(ImportFileError, match="location column"):
        layout(ImportKind.MENTORS, ["external_id", "kind", "skills"])


def test_unnamed_header_column() -> None:
    with pytest.raises(ImportFileError, match="column 5 of the header has no name"):
        layout(ImportKind.MENTORS, ["external_id", "kind", "insee", "skills", ""])


def test_json_records_stream_one_by_one() -> None:
    records = json_records(io.BytesIO(b'[{"a": 1}, {"a": 2}, 3]'))
    assert next(records) == (1, {"a": 1})
    assert list(records) == [(2, {"a": 2}), (3, 3)]


def test_invalid_utf8_in_json_names_the_offset() -> None:
    with pytest.raises(ImportFileError, match="not valid UTF-8") as caught:
        list(json_records(io.BytesIO(b'[{"a": "caf\xe9"}]')))
    assert caught.value.errors[0]["offset"] == 11  # 0-based
