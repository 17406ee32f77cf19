"""pseudonymous identity: keyed hashes, links, supports declared by identity

Revision ID: 0009
Revises: 0010
Create Date: 2026-12-02 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_events",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("linked", "detached", name="identityeventkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "subject",
            sa.Enum("mentee", "mentor", name="subject", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("actor_organisation_id", sa.Uuid(), nullable=True),
        sa.Column(
            "reason",
            sa.Enum(
                "different_person",
                "data_entry_error",
                "other",
                name="detachreason",
                native_enum=False,
                length=30,
            ),
            nullable=True,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_events")),
    )
    with op.batch_alter_table("identity_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_events_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_identity_events_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_identity_events_record_id"), ["record_id"], unique=False
        )

    op.create_table(
        "identity_keys",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_identity_keys")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_identity_keys_fingerprint")),
    )
    op.create_table(
        "identities",
        sa.Column("mentee_id", sa.Uuid(), nullable=True),
        sa.Column("mentor_id", sa.Uuid(), nullable=True),
        sa.Column("support_id", sa.Uuid(), nullable=True),
        sa.Column("detached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "detached_reason",
            sa.Enum(
                "different_person",
                "data_entry_error",
                "other",
                name="detachreason",
                native_enum=False,
                length=30,
            ),
            nullable=True,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(CASE WHEN mentee_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN mentor_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN support_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_identities_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["mentee_id"],
            ["mentees.id"],
            name=op.f("fk_identities_mentee_id_mentees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["mentors.id"],
            name=op.f("fk_identities_mentor_id_mentors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["support_id"],
            ["supports.id"],
            name=op.f("fk_identities_support_id_supports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identities")),
        sa.UniqueConstraint("mentee_id", name=op.f("uq_identities_mentee_id")),
        sa.UniqueConstraint("mentor_id", name=op.f("uq_identities_mentor_id")),
        sa.UniqueConstraint("support_id", name=op.f("uq_identities_support_id")),
    )
    op.create_table(
        "identity_digests",
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_identity_digests_identity_id_identities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["key_version"],
            ["identity_keys.version"],
            name=op.f("fk_identity_digests_key_version_identity_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("identity_id", "key_version", name=op.f("pk_identity_digests")),
    )
    with op.batch_alter_table("identity_digests", schema=None) as batch_op:
        batch_op.create_index("ix_identity_digests_lookup", ["key_version", "digest"], unique=False)

    with op.batch_alter_table("supports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=100), nullable=True))
        batch_op.alter_column("mentee_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.create_unique_constraint(
            batch_op.f("uq_supports_provider_id_external_id"), ["provider_id", "external_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("supports", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_supports_provider_id_external_id"), type_="unique")
        batch_op.alter_column("mentee_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("external_id")

    with op.batch_alter_table("identity_digests", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_digests_lookup")

    op.drop_table("identity_digests")
    op.drop_table("identities")
    op.drop_table("identity_keys")
    with op.batch_alter_table("identity_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_events_record_id"))
        batch_op.drop_index(batch_op.f("ix_identity_events_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_identity_events_created_at"))

    op.drop_table("identity_events")
