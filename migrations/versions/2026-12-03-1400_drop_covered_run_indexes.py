"""drop the run rows' run_id indexes, covered by (run_id, position)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every lookup by run_id (pages, the cascade on a run's deletion) is served by the
# (run_id, position) index; a second one on run_id alone only cost each run's writing.
COVERED = {
    "ix_run_proposals_run_id": "run_proposals",
    "ix_run_unmatched_run_id": "run_unmatched",
}


def upgrade() -> None:
    for name, table in COVERED.items():
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table in COVERED.items():
        op.create_index(name, table, ["run_id"])
