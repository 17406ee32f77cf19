"""CSV columns of each import: the JSON record schema, flattened.

``location`` becomes the ``insee`` / ``postcode`` / ``lat`` / ``lon`` columns; lists
(``skills``, ``needs``, ``languages``, ``programme_ids``) are ``|``-separated; booleans
accept true/false, 1/0, oui/non, vrai/faux, yes/no; dates ISO (2027-06-30) or French
(30/06/2027); decimals with a point or a comma. An empty cell takes the field's default.
"""

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.i18n.catalogue import labels
from app.imports import echo
from app.imports.reading import ImportFileError
from app.imports.vocabulary import ImportKind

LIST_SEPARATOR = "|"
TRUE_WORDS = frozenset({"true", "1", "oui", "vrai", "yes", "o", "y"})
FALSE_WORDS = frozenset({"false", "0", "non", "faux", "no", "n"})
OTHERS_SHOWN = 10
"""Unknown header columns named after the first one (then only counted)."""
FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class Cell(StrEnum):
    TEXT = "text"
    INT = "int"
    DECIMAL = "decimal"
    BOOL = "bool"
    LIST = "list"
    DATE = "date"


@dataclass(frozen=True)
class Column:
    name: str
    cell: Cell
    required: bool = False
    example: str = ""
    help: str = ""

    @property
    def path(self) -> tuple[str, ...]:
        """Where the value goes in a JSON record."""
        if self.name in IDENTITY_COLUMNS:
            return ("identity", self.name)
        return ("location", self.name) if self.name in LOCATION_COLUMNS else (self.name,)


LOCATION_COLUMNS = ("insee", "postcode", "lat", "lon")
IDENTITY_COLUMNS = ("first_name", "last_name", "birth_date")
IDENTITY: tuple[Column, ...] = (
    Column("first_name", Cell.TEXT, help="identity (optional): only a keyed hash is kept"),
    Column("last_name", Cell.TEXT, help="identity (optional): only a keyed hash is kept"),
    Column("birth_date", Cell.DATE, help="identity (optional): must fall in birth_year"),
)


def _location(insee_example: str) -> tuple[Column, ...]:
    return (
        Column("insee", Cell.TEXT, example=insee_example, help="INSEE commune code"),
        Column("postcode", Cell.TEXT, help="postcode, when the INSEE code is unknown"),
        Column("lat", Cell.DECIMAL, help="optional exact latitude"),
        Column("lon", Cell.DECIMAL, help="optional exact longitude"),
    )


MENTOR_COLUMNS: tuple[Column, ...] = (
    Column("external_id", Cell.TEXT, required=True, example="EMP-0042"),
    Column("kind", Cell.TEXT, required=True, example="employee"),
    Column("employer_id", Cell.TEXT, help="employer organisation id (HR: your company)"),
    *_location("93066"),
    Column("max_travel_km", Cell.INT, example="10"),
    Column("remote_ok", Cell.BOOL, example="oui"),
    Column("capacity", Cell.INT, example="2"),
    Column("skills", Cell.LIST, required=True, example="employment|orientation"),
    Column("languages", Cell.LIST, example="fr|en"),
    Column("background_check_valid_until", Cell.DATE, example="2027-06-30"),
    Column("programme_ids", Cell.LIST),
    Column("active", Cell.BOOL, example="oui"),
    *IDENTITY,
)

MENTEE_COLUMNS: tuple[Column, ...] = (
    Column("external_id", Cell.TEXT, required=True, example="JEUNE-2025-118"),
    Column("birth_year", Cell.INT, required=True, example="2010"),
    *_location("93066"),
    Column("qpv", Cell.BOOL, example="oui"),
    Column("rural_zone", Cell.TEXT, example="none"),
    Column("activity", Cell.TEXT, required=True, example="middle_school"),
    Column("needs", Cell.LIST, required=True, example="school_support|confidence"),
    Column("languages", Cell.LIST, example="fr|ar"),
    Column("remote_ok", Cell.BOOL, example="non"),
    Column("max_travel_km", Cell.INT, example="5"),
    Column("waiting_since", Cell.DATE, example="2026-09-15"),
    Column("programme_ids", Cell.LIST),
    Column("active", Cell.BOOL, example="oui"),
    *IDENTITY,
)

SUPPORT_COLUMNS: tuple[Column, ...] = (
    Column("external_id", Cell.TEXT, required=True, example="CE93-2026-0042"),
    Column("first_name", Cell.TEXT, required=True, example="Zoé-Marie"),
    Column("last_name", Cell.TEXT, required=True, example="N'Diaye"),
    Column("birth_date", Cell.DATE, required=True, example="2011-04-02"),
    Column("need", Cell.TEXT, required=True, example="school_support"),
    Column("start_date", Cell.DATE, required=True, example="2026-09-01"),
    Column("end_date", Cell.DATE, example="2027-06-30"),
    Column("programme_id", Cell.TEXT),
)

COLUMNS: dict[ImportKind, tuple[Column, ...]] = {
    ImportKind.MENTORS: MENTOR_COLUMNS,
    ImportKind.MENTEES: MENTEE_COLUMNS,
    ImportKind.SUPPORTS: SUPPORT_COLUMNS,
}


def column_for(field: str, kind: ImportKind) -> str | None:
    """The CSV column of an API field path: ``location.insee`` → ``insee``,
    ``skills[2]`` → ``skills``, ``location`` → ``insee``."""
    head = re.split(r"[.\[]", field, maxsplit=1)[0]
    if head == "identity":
        name = field[len("identity") :].lstrip(".")
        return name if name in IDENTITY_COLUMNS else "first_name"
    if head == "location":
        rest = field[len("location") :].lstrip(".")
        name = re.split(r"[.\[]", rest, maxsplit=1)[0] if rest else "insee"
        return name if name in LOCATION_COLUMNS else "insee"
    names = {column.name for column in COLUMNS[kind]}
    return head if head in names else None


@dataclass(frozen=True)
class Layout:
    """The header of one file mapped to the known columns."""

    kind: ImportKind
    columns: tuple[Column, ...]  # in file order

    @property
    def width(self) -> int:
        return len(self.columns)

    def index(self, name: str) -> int | None:
        """The position of column ``name`` in the file, if it has one."""
        for position, column in enumerate(self.columns):
            if column.name == name:
                return position
        return None

    def record(self, cells: Sequence[str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The JSON-shaped record of one row (empty cells left out, so defaults apply)
        and the cells that could not be read, as ``(column, message)``."""
        record: dict[str, Any] = {}
        location: dict[str, Any] = {}
        identity: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for column, raw in zip(self.columns, cells, strict=True):
            text = raw.strip()
            if not text:
                continue
            try:
                value = convert(column.cell, text)
            except ValueError as exc:
                problems.append((column.name, str(exc)))
                continue
            if column.name in IDENTITY_COLUMNS:
                identity[column.name] = value
            elif column.name in LOCATION_COLUMNS:
                location[column.name] = value
            else:
                record[column.name] = value
        if location or any(column.name in LOCATION_COLUMNS for column in self.columns):
            record["location"] = location
        if identity:
            record["identity"] = identity
        return record, problems


def convert(cell: Cell, text: str) -> Any:
    if cell is Cell.LIST:
        return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]
    if cell is Cell.BOOL:
        word = text.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(
            f"expected a yes/no value (true/false, oui/non, 1/0), got {echo.clip(text)!r}"
        )
    if cell is Cell.DECIMAL:
        return text.replace(",", ".", 1)
    if cell is Cell.DATE:
        french = FRENCH_DATE.match(text)
        if french:
            day, month, year = french.groups()
            return f"{year}-{int(month):02d}-{int(day):02d}"
        return text
    return text


def english_column(name: str) -> str:
    """A header cell's column: the English name, or the French one of the templates."""
    return FRENCH_COLUMNS.get(name, name)


FRENCH_COLUMNS = {french: english for english, french in labels("column", "fr").items()}


def layout(kind: ImportKind, header: Sequence[str]) -> Layout:
    """Map a header to the columns of ``kind``; unknown, duplicated or missing columns are
    an error naming them (nothing is silently dropped)."""
    known = {column.name: column for column in COLUMNS[kind]}
    if len(header) > echo.MAX_HEADER_COLUMNS:
        raise ImportFileError(
            f"the header has {len(header)} columns; an import file has at most "
            f"{echo.MAX_HEADER_COLUMNS} (expected columns: {', '.join(known)})",
            row=1,
        )
    names = [english_column(name.strip().lower()) for name in header]
    unknown = [(index, header[index]) for index, name in enumerate(names) if name not in known]
    if unknown:
        index, original = unknown[0]
        if not original.strip():
            message = f"column {index + 1} of the header has no name"
        else:
            message = f"unknown column {echo.clip(original.strip())!r}"
            close = difflib.get_close_matches(names[index], known, n=1)
            if close:
                message += f" (did you mean {close[0]!r}?)"
        if len(unknown) > 1:
            shown = unknown[1 : 1 + OTHERS_SHOWN]
            others = ", ".join(repr(echo.clip(name.strip(), 40)) for _, name in shown)
            more = len(unknown) - 1 - len(shown)
            message += f"; other unknown columns: {others}" + (f" and {more} more" if more else "")
        message += f". Expected columns: {', '.join(known)}"
        raise ImportFileError(message, row=1, column=echo.clip(original.strip()))
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ImportFileError(
                f"column {name!r} appears twice in the header", row=1, column=echo.clip(name)
            )
        seen.add(name)
    missing = [c.name for c in COLUMNS[kind] if c.required and c.name not in seen]
    if missing:
        raise ImportFileError(
            f"missing required column(s): {', '.join(missing)}", row=1, column=missing[0]
        )
    located = any(c.name in LOCATION_COLUMNS for c in COLUMNS[kind])
    if located and "insee" not in seen and "postcode" not in seen:
        raise ImportFileError(
            "missing location column: give an insee or a postcode column", row=1, column="insee"
        )
    return Layout(kind, tuple(known[name] for name in names))
