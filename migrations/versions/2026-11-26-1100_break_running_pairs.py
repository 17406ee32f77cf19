"""matching runs may break running pairs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("matching_runs") as batch:
        batch.add_column(
            sa.Column(
                "break_running_pairs", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("matching_runs") as batch:
        batch.drop_column("break_running_pairs")
