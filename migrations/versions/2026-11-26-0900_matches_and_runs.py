"""matches and matching runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:00:00

Tables of the matching runs (runs, their proposals and unmatched young people) and of
the matches with their history. On PostgreSQL, also the task queue that executes runs
(procrastinate), in its own schema ``procrastinate`` so that it stays apart from the
service's tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUE_SCHEMA = "procrastinate"


def upgrade() -> None:
    op.create_table(
        "matching_runs",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by_key_id", sa.Uuid(), nullable=True),
        sa.Column(
            "mode",
            sa.Enum("dry_run", "commit", name="runmode", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "succeeded",
                "failed",
                "cancelled",
                name="runstatus",
                native_enum=False,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column(
            "requested_programme_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "departments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "programme_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("keep_running", sa.Boolean(), nullable=False),
        sa.Column(
            "phase",
            sa.Enum(
                "queued",
                "waiting",
                "loading",
                "solving",
                "writing",
                "done",
                name="runphase",
                native_enum=False,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=True),
        sa.Column("diff", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_matching_runs_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_key_id"],
            ["api_keys.id"],
            name=op.f("fk_matching_runs_requested_by_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matching_runs")),
    )
    with op.batch_alter_table("matching_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_matching_runs_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_matching_runs_status"), ["status"], unique=False)

    op.create_table(
        "matches",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("mentee_id", sa.Uuid(), nullable=False),
        sa.Column("mentor_id", sa.Uuid(), nullable=False),
        sa.Column("programme_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("need", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "accepted",
                "active",
                "closed",
                "declined",
                "expired",
                "superseded",
                name="matchstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("distance_km", sa.Float(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "close_reason",
            sa.Enum(
                "completed",
                "mentee_withdrew",
                "mentor_withdrew",
                "incompatibility",
                "moved_away",
                "safeguarding",
                "other",
                name="closereason",
                native_enum=False,
                length=30,
            ),
            nullable=True,
        ),
        sa.Column(
            "decline_reason",
            sa.Enum(
                "incompatibility",
                "mentee_declined",
                "mentor_declined",
                "unavailable",
                "already_supported",
                "safeguarding",
                "other",
                name="declinereason",
                native_enum=False,
                length=30,
            ),
            nullable=True,
        ),
        sa.Column("reason_note", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mentee_id"],
            ["mentees.id"],
            name=op.f("fk_matches_mentee_id_mentees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["mentors.id"],
            name=op.f("fk_matches_mentor_id_mentors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_matches_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_matches_programme_id_programmes"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["matching_runs.id"],
            name=op.f("fk_matches_run_id_matching_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matches")),
    )
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_matches_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_matches_mentee_id"), ["mentee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_matches_mentor_id"), ["mentor_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_matches_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_matches_programme_id"), ["programme_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_matches_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_matches_status"), ["status"], unique=False)

    op.create_table(
        "run_unmatched",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("mentee_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mentee_id"],
            ["mentees.id"],
            name=op.f("fk_run_unmatched_mentee_id_mentees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["matching_runs.id"],
            name=op.f("fk_run_unmatched_run_id_matching_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_unmatched")),
    )
    with op.batch_alter_table("run_unmatched", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_unmatched_mentee_id"), ["mentee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_run_unmatched_run_id"), ["run_id"], unique=False)

    op.create_table(
        "match_events",
        sa.Column("match_id", sa.Uuid(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "proposed",
                "accepted",
                "active",
                "closed",
                "declined",
                "expired",
                "superseded",
                name="matchstatus",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "proposed",
                "accepted",
                "active",
                "closed",
                "declined",
                "expired",
                "superseded",
                name="matchstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("actor_key_id", sa.Uuid(), nullable=True),
        sa.Column("actor_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_key_id"],
            ["api_keys.id"],
            name=op.f("fk_match_events_actor_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["actor_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_match_events_actor_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["matches.id"],
            name=op.f("fk_match_events_match_id_matches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_events")),
    )
    with op.batch_alter_table("match_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_events_match_id"), ["match_id"], unique=False)

    op.create_table(
        "run_proposals",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("mentee_id", sa.Uuid(), nullable=False),
        sa.Column("mentor_id", sa.Uuid(), nullable=False),
        sa.Column("programme_id", sa.Uuid(), nullable=False),
        sa.Column("need", sa.String(length=40), nullable=False),
        sa.Column("meeting_mode", sa.String(length=20), nullable=True),
        sa.Column("distance_km", sa.Float(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("score_breakdown", sa.JSON(), nullable=False),
        sa.Column(
            "change",
            sa.Enum("new", "kept", "replaces", name="proposalchange", native_enum=False, length=12),
            nullable=False,
        ),
        sa.Column("previous_match_id", sa.Uuid(), nullable=True),
        sa.Column("match_id", sa.Uuid(), nullable=True),
        sa.Column("skipped", sa.String(length=40), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["matches.id"],
            name=op.f("fk_run_proposals_match_id_matches"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["mentee_id"],
            ["mentees.id"],
            name=op.f("fk_run_proposals_mentee_id_mentees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["mentors.id"],
            name=op.f("fk_run_proposals_mentor_id_mentors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["previous_match_id"],
            ["matches.id"],
            name=op.f("fk_run_proposals_previous_match_id_matches"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_run_proposals_programme_id_programmes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["matching_runs.id"],
            name=op.f("fk_run_proposals_run_id_matching_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_proposals")),
    )
    with op.batch_alter_table("run_proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_proposals_match_id"), ["match_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_run_proposals_mentee_id"), ["mentee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_run_proposals_mentor_id"), ["mentor_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_run_proposals_programme_id"), ["programme_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_run_proposals_run_id"), ["run_id"], unique=False)

    _create_queue_schema()


def downgrade() -> None:
    _drop_queue_schema()
    with op.batch_alter_table("run_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_proposals_run_id"))
        batch_op.drop_index(batch_op.f("ix_run_proposals_programme_id"))
        batch_op.drop_index(batch_op.f("ix_run_proposals_mentor_id"))
        batch_op.drop_index(batch_op.f("ix_run_proposals_mentee_id"))
        batch_op.drop_index(batch_op.f("ix_run_proposals_match_id"))
    op.drop_table("run_proposals")
    with op.batch_alter_table("match_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_events_match_id"))
    op.drop_table("match_events")
    with op.batch_alter_table("run_unmatched", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_unmatched_run_id"))
        batch_op.drop_index(batch_op.f("ix_run_unmatched_mentee_id"))
    op.drop_table("run_unmatched")
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matches_status"))
        batch_op.drop_index(batch_op.f("ix_matches_run_id"))
        batch_op.drop_index(batch_op.f("ix_matches_programme_id"))
        batch_op.drop_index(batch_op.f("ix_matches_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_matches_mentor_id"))
        batch_op.drop_index(batch_op.f("ix_matches_mentee_id"))
        batch_op.drop_index(batch_op.f("ix_matches_expires_at"))
    op.drop_table("matches")
    with op.batch_alter_table("matching_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matching_runs_status"))
        batch_op.drop_index(batch_op.f("ix_matching_runs_organisation_id"))
    op.drop_table("matching_runs")


def _create_queue_schema() -> None:
    """The procrastinate schema of the installed version (3.x), applied in its own
    PostgreSQL schema. SQLite runs use an in-process pool and need no queue."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    op.execute(f"CREATE SCHEMA {QUEUE_SCHEMA}")
    previous = bind.exec_driver_sql("SELECT current_setting('search_path')").scalar_one()
    bind.exec_driver_sql(f"SET LOCAL search_path TO {QUEUE_SCHEMA}")
    bind.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
    bind.execute(
        sa.text("SELECT set_config('search_path', :previous, true)"), {"previous": previous}
    )


def _drop_queue_schema() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP SCHEMA IF EXISTS {QUEUE_SCHEMA} CASCADE")
