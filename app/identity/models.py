"""What identity keeps: keyed hashes, never the clear values.

``identity_keys`` registers each key version by a fingerprint (an HMAC of a constant
under the key: proves which secret a version is without revealing it). ``identities``
is one row per record that was given an identity (a young person, a volunteer, or a
support declared by identity alone); ``identity_digests`` its hash under every key
version that was configured when the identity was given. ``identity_events`` is the
trail of linking and detaching.
"""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin, UtcDateTime, str_enum, utcnow
from app.identity.vocabulary import DetachReason, IdentityEventKind, Subject

DIGEST_LENGTH = 64  # hex SHA-256


class IdentityKey(Base):
    __tablename__ = "identity_keys"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(String(DIGEST_LENGTH), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Identity(IdMixin, TimestampMixin, Base):
    __tablename__ = "identities"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN mentee_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN mentor_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN support_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_owner",
        ),
    )

    mentee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("mentees.id", ondelete="CASCADE"), unique=True
    )
    mentor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("mentors.id", ondelete="CASCADE"), unique=True
    )
    support_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("supports.id", ondelete="CASCADE"), unique=True
    )
    detached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    detached_reason: Mapped[DetachReason | None] = mapped_column(str_enum(DetachReason, 30))


class IdentityDigest(Base):
    __tablename__ = "identity_digests"
    __table_args__ = (Index("ix_identity_digests_lookup", "key_version", "digest"),)

    identity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), primary_key=True
    )
    key_version: Mapped[int] = mapped_column(
        ForeignKey("identity_keys.version", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH))


class IdentityEvent(IdMixin, Base):
    """One linking or detaching of a record. Ids are plain values (no foreign key): the
    trail outlives an erased record."""

    __tablename__ = "identity_events"

    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    kind: Mapped[IdentityEventKind] = mapped_column(str_enum(IdentityEventKind, 20))
    subject: Mapped[Subject] = mapped_column(str_enum(Subject, 10))
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    """The organisation owning the record (who sees this event)."""
    actor_organisation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reason: Mapped[DetachReason | None] = mapped_column(str_enum(DetachReason, 30))
