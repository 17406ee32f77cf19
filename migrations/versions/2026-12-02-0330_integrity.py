"""exclusions declared directly; one record per support; consent to cross-organisation links

Revision ID: 0007
Revises: 0009
Create Date: 2026-12-02 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUPPORT_IDENTITY = ["mentee_id", "need", "provider_id", "start_date"]


def _confirmations(table: str, other: str, other_table: str) -> None:
    op.create_table(
        table,
        sa.Column("mentor_id", sa.Uuid(), nullable=False),
        sa.Column(other, sa.Uuid(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by_key_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["confirmed_by_key_id"],
            ["api_keys.id"],
            name=op.f(f"fk_{table}_confirmed_by_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["mentors.id"],
            name=op.f(f"fk_{table}_mentor_id_mentors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            [other],
            [f"{other_table}.id"],
            name=op.f(f"fk_{table}_{other}_{other_table}"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mentor_id", other, name=op.f(f"pk_{table}")),
    )
    op.create_index(op.f(f"ix_{table}_{other}"), table, [other])


def upgrade() -> None:
    # Links made before consent existed stay unconfirmed across organisations: runs leave
    # such enrolments out, HR does not see such records, until the other side confirms.
    _confirmations("enrolment_confirmations", "programme_id", "programmes")
    _confirmations("employer_confirmations", "employer_id", "organisations")
    op.create_table(
        "exclusions",
        sa.Column("mentee_id", sa.Uuid(), nullable=False),
        sa.Column("mentor_id", sa.Uuid(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "safeguarding",
                "incompatibility",
                "conflict_of_interest",
                "other",
                name="exclusionreason",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("declared_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["declared_by_key_id"],
            ["api_keys.id"],
            name=op.f("fk_exclusions_declared_by_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["mentee_id"],
            ["mentees.id"],
            name=op.f("fk_exclusions_mentee_id_mentees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["mentors.id"],
            name=op.f("fk_exclusions_mentor_id_mentors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_exclusions_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_key_id"],
            ["api_keys.id"],
            name=op.f("fk_exclusions_revoked_by_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exclusions")),
    )
    for column in ("mentee_id", "mentor_id", "organisation_id"):
        op.create_index(op.f(f"ix_exclusions_{column}"), "exclusions", [column])
    # Supports recorded twice before the constraint existed: keep the first of each.
    op.execute(
        "DELETE FROM supports WHERE EXISTS (SELECT 1 FROM supports t WHERE "
        + " AND ".join(f"t.{c} = supports.{c}" for c in SUPPORT_IDENTITY)
        + " AND (t.created_at < supports.created_at OR "
        "(t.created_at = supports.created_at AND t.id < supports.id)))"
    )
    with op.batch_alter_table("supports") as batch:
        batch.create_unique_constraint(
            op.f("uq_supports_mentee_id_need_provider_id_start_date"), SUPPORT_IDENTITY
        )


def downgrade() -> None:
    for table, other in (
        ("employer_confirmations", "employer_id"),
        ("enrolment_confirmations", "programme_id"),
    ):
        op.drop_index(op.f(f"ix_{table}_{other}"), table_name=table)
        op.drop_table(table)
    with op.batch_alter_table("supports") as batch:
        batch.drop_constraint(
            op.f("uq_supports_mentee_id_need_provider_id_start_date"), type_="unique"
        )
    for column in ("mentee_id", "mentor_id", "organisation_id"):
        op.drop_index(op.f(f"ix_exclusions_{column}"), table_name="exclusions")
    op.drop_table("exclusions")
