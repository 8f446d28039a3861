"""The data version (a count bumped by triggers on every change to what a report reads),
the reports kept with the version they were built at, sent again while it still holds, and
an index that covers the facts of the tasks done in a period

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-29

A stored report may be sent again only while nothing it was built from has changed (the
SPEC's "never stale"): every insert, update or delete of the tables below bumps
`data_versions` in the same transaction, and a report is reused only when the sum still
equals the sum read before it was built. On PostgreSQL the bump is per statement and spread
over 16 rows by the backend, so writers in other sessions rarely wait on one another; the
sum only grows, so a change committed while a report was built always tells. As with 0011's
triggers, a later migration that rebuilds one of these tables on SQLite drops its triggers
and must create them again (`create_triggers` below); tests/test_report_store.py would fail.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What `models/reports.build_report` reads: the tasks and their history, the units, the
# officials, the documents, explanations, coordination reports and the working calendar.
WATCHED = (
    "tasks",
    "task_events",
    "units",
    "officials",
    "documents",
    "explanations",
    "contributions",
    "calendar_overrides",
)
SLOTS = 16
OPEN_INDEXES = {
    "ix_tasks_open_unit": "lead_unit_id",
    "ix_tasks_open_leader": "leader_id",
    "ix_tasks_open_specialist": "specialist_id",
}

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION bump_data_version() RETURNS trigger AS $$
BEGIN
    INSERT INTO data_versions (slot, n) VALUES (pg_backend_pid() % {SLOTS}, 1)
    ON CONFLICT (slot) DO UPDATE SET n = data_versions.n + 1;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""


def create_triggers() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    if postgres:
        op.execute(PG_FUNCTION)
    for table in WATCHED:
        if postgres:
            op.execute(
                f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE"
                f" OR TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()"
            )
            continue
        for event in ("insert", "update", "delete"):
            op.execute(
                f"CREATE TRIGGER {table}_data_version_{event} AFTER {event.upper()} ON {table}"
                " BEGIN UPDATE data_versions SET n = n + 1 WHERE slot = 0; END"
            )


def drop_triggers() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    for table in WATCHED:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_data_version ON {table}")
            continue
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_data_version_{event}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS bump_data_version()")


def upgrade() -> None:
    op.create_table(
        "data_versions",
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_data_versions")),
    )
    op.execute("INSERT INTO data_versions (slot, n) VALUES (0, 0)")
    op.create_table(
        "stored_reports",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("chart_id", sa.Integer(), nullable=False),
        sa.Column("workbook_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_stored_reports")),
    )
    create_triggers()
    # The report's facts of the open tasks and of those done in a period, per unit, leader
    # and specialist, each read from an index alone.
    for name, key in OPEN_INDEXES.items():
        op.create_index(
            name,
            "tasks",
            [key, "deadline", "status"],  # the status too: SQLite then reads no table row
            sqlite_where=sa.text("status <> 'done'"),
            postgresql_where=sa.text("status <> 'done'"),
        )
        if op.get_context().dialect.name == "sqlite":
            # Where the planner has statistics, it needs these indexes' to choose them.
            op.execute(f"ANALYZE {name}")
    op.create_index(
        "ix_tasks_done_people",
        "tasks",
        [
            "completed_date",
            "status",
            "assigned_date",
            "deadline",
            "lead_unit_id",
            "leader_id",
            "specialist_id",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_done_people", table_name="tasks")
    for name in OPEN_INDEXES:
        op.drop_index(name, table_name="tasks")
    drop_triggers()
    op.drop_table("stored_reports")
    op.drop_table("data_versions")
