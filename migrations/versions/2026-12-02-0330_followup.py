"""follow-up of running pairs: meetings and check-ins; indexes for the indicators

The ``updated_at`` indexes let the indicators tell cheaply whether the data changed since
their national tables were computed.

Revision ID: 0010
Revises: 0004
Create Date: 2026-12-02 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MODES = ("in_person", "remote")
FRESHNESS_TABLES = ("mentees", "mentors", "matches", "supports")
CONCERNS = (
    "scheduling",
    "engagement",
    "communication",
    "expectations",
    "wellbeing",
    "safeguarding",
    "other",
)


def _table(name: str, *columns: sa.Column[object], checks: dict[str, str]) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("match_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        *columns,
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["matches.id"],
            name=op.f(f"fk_{name}_match_id_matches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        *(
            sa.CheckConstraint(condition, name=op.f(f"ck_{name}_{check}"))
            for check, condition in checks.items()
        ),
    )
    op.create_index(op.f(f"ix_{name}_match_id"), name, ["match_id"])
    op.create_index(op.f(f"ix_{name}_organisation_id"), name, ["organisation_id"])


def upgrade() -> None:
    _table(
        "meetings",
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column(
            "mode",
            sa.Enum(*MODES, name="meetingmode", native_enum=False, length=20),
            nullable=False,
        ),
        checks={"minutes_range": "minutes BETWEEN 1 AND 1440"},
    )
    _table(
        "check_ins",
        sa.Column("mentor_rating", sa.Integer(), nullable=True),
        sa.Column("mentee_rating", sa.Integer(), nullable=True),
        sa.Column(
            "concern",
            sa.Enum(*CONCERNS, name="concern", native_enum=False, length=20),
            nullable=True,
        ),
        checks={
            "mentor_rating_range": "mentor_rating BETWEEN 1 AND 5",
            "mentee_rating_range": "mentee_rating BETWEEN 1 AND 5",
            "some_rating": "mentor_rating IS NOT NULL OR mentee_rating IS NOT NULL",
        },
    )

    for table in FRESHNESS_TABLES:
        op.create_index(op.f(f"ix_{table}_updated_at"), table, ["updated_at"])


def downgrade() -> None:
    for table in FRESHNESS_TABLES:
        op.drop_index(op.f(f"ix_{table}_updated_at"), table_name=table)
    op.drop_table("check_ins")
    op.drop_table("meetings")
