"""Downloadable CSV templates: the expected columns and one example row per role."""

from app.i18n.catalogue import labels
from app.imports import csv_out
from app.imports.columns import COLUMNS
from app.imports.vocabulary import ImportKind
from app.vocabulary import Role

# Example cells that differ by role (HR submits its own employees; the employer column
# may stay empty: it defaults to the HR department's company).
ROLE_EXAMPLES: dict[tuple[ImportKind, Role], dict[str, str]] = {
    (ImportKind.MENTORS, Role.ASSOCIATION): {
        "external_id": "BEN-0042",
        "kind": "volunteer",
        "background_check_valid_until": "2027-06-30",
    },
    (ImportKind.MENTORS, Role.ADMIN): {"external_id": "BEN-0042", "kind": "volunteer"},
}


def template(kind: ImportKind, role: Role, separator: str = ";", locale: str = "fr") -> str:
    """The template in ``locale``: French column headers by default (imports read the
    English and the French names alike); cell values stay the API's codes."""
    columns = COLUMNS[kind]
    overrides = ROLE_EXAMPLES.get((kind, role), {})
    names = labels("column", locale)
    header = [names.get(column.name, column.name) for column in columns]
    example = [overrides.get(column.name, column.example) for column in columns]
    return csv_out.render([header, example], separator)
