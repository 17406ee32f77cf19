"""audit log; erasing a person keeps their matches as anonymous records

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 03:30:00
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_UPDATE_SQLITE = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
"""
NO_UPDATE_PG_FUNCTION = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$
"""
NO_UPDATE_PG_TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
"""


@contextmanager
def _sqlite_foreign_keys_off() -> Iterator[None]:
    """SQLite rebuilds a table to change its foreign keys, and dropping the old table
    with foreign keys on would run its ``ON DELETE CASCADE`` (the match history would
    go). The pragma only takes effect outside a transaction."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        with op.get_context().autocommit_block():
            op.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        if sqlite:
            with op.get_context().autocommit_block():
                op.execute("PRAGMA foreign_keys=ON")


def _person_links(ondelete: str, nullable: bool) -> None:
    with op.batch_alter_table("matches") as batch:
        batch.drop_constraint("fk_matches_mentee_id_mentees", type_="foreignkey")
        batch.drop_constraint("fk_matches_mentor_id_mentors", type_="foreignkey")
        batch.alter_column("mentee_id", existing_type=sa.Uuid(), nullable=nullable)
        batch.alter_column("mentor_id", existing_type=sa.Uuid(), nullable=nullable)
        batch.create_foreign_key(
            "fk_matches_mentee_id_mentees", "mentees", ["mentee_id"], ["id"], ondelete=ondelete
        )
        batch.create_foreign_key(
            "fk_matches_mentor_id_mentors", "mentors", ["mentor_id"], ["id"], ondelete=ondelete
        )


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_key_id", sa.Uuid(), nullable=True),
        sa.Column("actor_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("record_type", sa.String(length=30), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(
        op.f("ix_audit_log_actor_organisation_id"), "audit_log", ["actor_organisation_id"]
    )
    op.create_index("ix_audit_log_organisation_at", "audit_log", ["organisation_id", "at"])
    op.create_index("ix_audit_log_record", "audit_log", ["record_type", "record_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NO_UPDATE_PG_FUNCTION)
        op.execute(NO_UPDATE_PG_TRIGGER)
    else:
        op.execute(NO_UPDATE_SQLITE)
    with _sqlite_foreign_keys_off():
        _person_links("SET NULL", nullable=True)


def downgrade() -> None:
    # Anonymous matches (their person erased) cannot point at anyone again: they go.
    op.execute("DELETE FROM matches WHERE mentee_id IS NULL OR mentor_id IS NULL")
    with _sqlite_foreign_keys_off():
        _person_links("CASCADE", nullable=False)
    op.execute(
        "DROP TRIGGER IF EXISTS audit_log_append_only"
        + (" ON audit_log" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_index("ix_audit_log_record", table_name="audit_log")
    op.drop_index("ix_audit_log_organisation_at", table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_actor_organisation_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
