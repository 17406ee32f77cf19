"""The audit log table.

No foreign keys on purpose: an entry outlives the key, the organisation and the record it
names (an erased young person leaves an anonymous tombstone: ``erase mentee <id>``), and
no cascade or ``SET NULL`` may ever rewrite it. The migration adds a trigger that refuses
any ``UPDATE``; rows are only ever inserted, and deleted by retention after
``audit_retention_days``.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, UtcDateTime, utcnow


class AuditEntry(IdMixin, Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_organisation_at", "organisation_id", "at"),
        Index("ix_audit_log_record", "record_type", "record_id"),
    )

    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor_key_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, doc="the API key that acted; none for the system (expiry, retention, CLI)"
    )
    actor_organisation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, doc="the organisation owning the record acted on"
    )
    action: Mapped[str] = mapped_column(String(30))
    record_type: Mapped[str] = mapped_column(String(30))
    record_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    counts: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, doc="whole numbers only (an import's created/updated/rejected...)"
    )
