import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, JsonList, UtcDateTime, str_enum, utcnow
from app.imports.vocabulary import ImportFormat, ImportKind, ImportMode, ImportStatus


class ImportReport(IdMixin, Base):
    """The outcome of one import, readable later with ``GET /v1/imports/{id}``.

    ``errors`` keeps at most ``Settings.import_max_errors`` row errors (the first ones, by
    row); ``errors_truncated`` tells when more were found. ``rejected`` always counts them all.
    """

    __tablename__ = "imports"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ImportKind] = mapped_column(str_enum(ImportKind, 10))
    mode: Mapped[ImportMode] = mapped_column(str_enum(ImportMode, 10))
    format: Mapped[ImportFormat] = mapped_column(str_enum(ImportFormat, 10))
    status: Mapped[ImportStatus] = mapped_column(str_enum(ImportStatus, 10))
    deactivate_missing: Mapped[bool] = mapped_column(Boolean, default=False)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    deactivated: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JsonList)
    errors_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class IdempotencyKey(IdMixin, Base):
    """A client's ``Idempotency-Key`` with the fingerprint of its request and the response
    that request got; replayed while it is younger than ``idempotency_retention_hours``."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("organisation_id", "key"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JsonList)
    import_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("imports.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
