"""indexes in the order of each list endpoint (paging at national scale)

Revision ID: 0006
Revises: 0012
Create Date: 2026-12-02 04:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_mentees_created_at_id": ("mentees", ["created_at", "id"]),
    "ix_mentors_created_at_id": ("mentors", ["created_at", "id"]),
    "ix_matches_proposed_at_id": ("matches", ["proposed_at", "id"]),
    "ix_supports_start_date_id": ("supports", ["start_date", "id"]),
    "ix_run_proposals_run_id_position": ("run_proposals", ["run_id", "position"]),
    "ix_run_unmatched_run_id_position": ("run_unmatched", ["run_id", "position"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
