"""background checks confirmed by the programme's association

Revision ID: 0013
Revises: 0006
Create Date: 2026-12-02 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "background_check_confirmations"


def upgrade() -> None:
    # Checks declared before this table existed count, as before, for the programmes of
    # the record's own organisation; across organisations they wait for a confirmation.
    op.create_table(
        TABLE,
        sa.Column("mentor_id", sa.Uuid(), nullable=False),
        sa.Column("programme_id", sa.Uuid(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by_key_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["confirmed_by_key_id"],
            ["api_keys.id"],
            name=op.f(f"fk_{TABLE}_confirmed_by_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["mentors.id"],
            name=op.f(f"fk_{TABLE}_mentor_id_mentors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f(f"fk_{TABLE}_programme_id_programmes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mentor_id", "programme_id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(op.f(f"ix_{TABLE}_programme_id"), TABLE, ["programme_id"])


def downgrade() -> None:
    op.drop_index(op.f(f"ix_{TABLE}_programme_id"), table_name=TABLE)
    op.drop_table(TABLE)
