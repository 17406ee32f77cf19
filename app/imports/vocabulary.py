"""Closed vocabularies of the import package."""

from enum import StrEnum


class ImportKind(StrEnum):
    MENTORS = "mentors"
    MENTEES = "mentees"
    SUPPORTS = "supports"
    """Supports declared by identity alone (``app.identity.supports_import``)."""


class ImportMode(StrEnum):
    """``atomic``: any invalid row and nothing is written; ``partial``: valid rows are."""

    ATOMIC = "atomic"
    PARTIAL = "partial"


class ImportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


class ImportStatus(StrEnum):
    COMPLETED = "completed"
    REJECTED = "rejected"
