import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.imports.vocabulary import ImportFormat, ImportKind, ImportMode, ImportStatus


class ImportCounts(BaseModel):
    rows: int = Field(description="data rows read (blank lines are skipped)")
    created: int
    updated: int
    unchanged: int
    deactivated: int
    rejected: int = Field(description="rows with at least one error")


class RowError(BaseModel):
    model_config = ConfigDict(extra="allow")

    row: int | None = Field(
        default=None,
        description="CSV: the row number a spreadsheet shows (the header is row 1); "
        "JSON: the 1-based position in the list",
    )
    column: str | None = Field(default=None, description="CSV column, when one is at fault")
    field: str | None = Field(default=None, description="field path in the JSON record")
    message: str
    external_id: str | None = None


class ImportReportRead(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    kind: ImportKind
    mode: ImportMode
    format: ImportFormat
    status: ImportStatus = Field(
        description="completed: rows written (partial mode: the valid ones); "
        "rejected: atomic import with errors, nothing written"
    )
    deactivate_missing: bool
    counts: ImportCounts
    errors: list[RowError]
    errors_truncated: bool = Field(
        description="more errors were found than the report keeps (import_max_errors)"
    )
    created_at: datetime


class ImportSummary(BaseModel):
    """An import in a list: its report without the row errors (``GET /v1/imports/{id}``
    and ``…/errors.csv`` have them)."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    kind: ImportKind
    mode: ImportMode
    format: ImportFormat
    status: ImportStatus
    deactivate_missing: bool
    counts: ImportCounts
    errors_truncated: bool
    created_at: datetime
