"""Kept task counts: per lead unit × day × open/done (and late), by day, month and year,
maintained by triggers on `tasks` in the same transaction as every change

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28

The triggers are the one place the counts change: whatever writes a task (a command, an
import, a bulk insert, a raw UPDATE) moves its count in the same transaction. A later
migration that rebuilds `tasks` on SQLite (batch_alter_table copies the table) drops them:
it must create them again (`create_triggers` below), and tests/test_tallies.py would fail.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A task with no deadline (ongoing) is counted on this day: after every "due soon" bound.
NO_DEADLINE = "9999-12-31"
KEY = "done, grain, day, unit_id, late"


def _sqlite_key(row: str) -> tuple[str, str, str]:
    done = f"(CASE WHEN {row}.status = 'done' THEN 1 ELSE 0 END)"
    day = (
        f"(CASE WHEN {row}.status = 'done' THEN {row}.completed_date"
        f" ELSE COALESCE({row}.deadline, '{NO_DEADLINE}') END)"
    )
    late = (
        f"(CASE WHEN {row}.status = 'done' AND {row}.deadline IS NOT NULL"
        f" AND {row}.completed_date > {row}.deadline THEN 1 ELSE 0 END)"
    )
    return done, day, late


def _sqlite_moves(row: str, sign: str) -> str:
    done, day, late = _sqlite_key(row)
    buckets = {
        "d": day,
        "m": f"date({day}, 'start of month')",
        "y": f"date({day}, 'start of year')",
    }
    return "\n".join(
        f"INSERT INTO task_tallies ({KEY}, n) VALUES ({done}, '{grain}', {bucket},"
        f" {row}.lead_unit_id, {late}, {sign}1)"
        f" ON CONFLICT ({KEY}) DO UPDATE SET n = n {sign} 1;"
        for grain, bucket in buckets.items()
    )


CHANGED = (
    "OLD.status IS NOT NEW.status OR OLD.deadline IS NOT NEW.deadline"
    " OR OLD.completed_date IS NOT NEW.completed_date OR OLD.lead_unit_id IS NOT NEW.lead_unit_id"
)

PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION task_tally_move(unit integer, status varchar, deadline date,
                                           completed date, delta integer) RETURNS void AS $$
DECLARE
    is_done boolean := status = 'done';
    bucket date := CASE WHEN status = 'done' THEN completed
                        ELSE COALESCE(deadline, DATE '{NO_DEADLINE}') END;
    is_late boolean := status = 'done' AND deadline IS NOT NULL AND completed > deadline;
BEGIN
    INSERT INTO task_tallies ({KEY}, n) VALUES
        (is_done, 'd', bucket, unit, is_late, delta),
        (is_done, 'm', date_trunc('month', bucket)::date, unit, is_late, delta),
        (is_done, 'y', date_trunc('year', bucket)::date, unit, is_late, delta)
    ON CONFLICT ({KEY}) DO UPDATE SET n = task_tallies.n + EXCLUDED.n;
END $$ LANGUAGE plpgsql;
---
CREATE OR REPLACE FUNCTION task_tally() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM task_tally_move(OLD.lead_unit_id, OLD.status, OLD.deadline,
                                OLD.completed_date, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM task_tally_move(NEW.lead_unit_id, NEW.status, NEW.deadline,
                                NEW.completed_date, 1);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""


def create_triggers() -> None:
    if op.get_context().dialect.name == "postgresql":
        for function in PG_FUNCTIONS.split("---"):  # asyncpg takes one statement at a time
            op.execute(function)
        op.execute(
            "CREATE TRIGGER task_tally_insert_delete AFTER INSERT OR DELETE ON tasks"
            " FOR EACH ROW EXECUTE FUNCTION task_tally()"
        )
        op.execute(
            "CREATE TRIGGER task_tally_update AFTER UPDATE OF status, deadline,"
            " completed_date, lead_unit_id ON tasks FOR EACH ROW WHEN ("
            + CHANGED.replace("IS NOT", "IS DISTINCT FROM")
            + ") EXECUTE FUNCTION task_tally()"
        )
        return
    op.execute(
        f"CREATE TRIGGER task_tally_insert AFTER INSERT ON tasks BEGIN\n"
        f"{_sqlite_moves('NEW', '+')}\nEND"
    )
    op.execute(
        f"CREATE TRIGGER task_tally_delete AFTER DELETE ON tasks BEGIN\n"
        f"{_sqlite_moves('OLD', '-')}\nEND"
    )
    op.execute(
        "CREATE TRIGGER task_tally_update AFTER UPDATE OF status, deadline, completed_date,"
        f" lead_unit_id ON tasks WHEN {CHANGED} BEGIN\n"
        f"{_sqlite_moves('OLD', '-')}\n{_sqlite_moves('NEW', '+')}\nEND"
    )


def _fill() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    done = "status = 'done'" if postgres else "(CASE WHEN status = 'done' THEN 1 ELSE 0 END)"
    no_deadline = f"DATE '{NO_DEADLINE}'" if postgres else f"'{NO_DEADLINE}'"
    day = (
        f"CASE WHEN status = 'done' THEN completed_date ELSE COALESCE(deadline, {no_deadline}) END"
    )
    late = "status = 'done' AND deadline IS NOT NULL AND completed_date > deadline"
    if not postgres:
        late = f"(CASE WHEN {late} THEN 1 ELSE 0 END)"
    for grain in ("d", "m", "y"):
        if grain == "d":
            bucket = f"({day})"
        elif postgres:
            bucket = f"date_trunc('{'month' if grain == 'm' else 'year'}', {day})::date"
        else:
            bucket = f"date({day}, 'start of {'month' if grain == 'm' else 'year'}')"
        op.execute(
            f"INSERT INTO task_tallies ({KEY}, n) SELECT {done}, '{grain}', {bucket},"
            f" lead_unit_id, {late}, count(*) FROM tasks GROUP BY 1, 2, 3, 4, 5"
        )


def upgrade() -> None:
    op.create_table(
        "task_tallies",
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("grain", sa.String(1), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit_id", "done", "grain", "day", "late", name="pk_task_tallies"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_task_tallies_day", "task_tallies", ["done", "grain", "day", "unit_id", "late", "n"]
    )
    # The units a task was handed from since a past moment, for reports of past periods.
    op.create_index("ix_task_events_field_at", "task_events", ["field", "at"])
    # What the counts put right at a past moment, read from the index alone.
    op.create_index(
        "ix_tasks_assigned_tally",
        "tasks",
        ["assigned_date", "lead_unit_id", "deadline", "status", "completed_date", "id"],
    )
    op.create_index(
        "ix_tasks_completed_tally",
        "tasks",
        ["completed_date", "lead_unit_id", "deadline", "status", "assigned_date", "id"],
    )
    _fill()
    create_triggers()


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS task_tally_update ON tasks")
        op.execute("DROP TRIGGER IF EXISTS task_tally_insert_delete ON tasks")
        op.execute("DROP FUNCTION IF EXISTS task_tally()")
        op.execute("DROP FUNCTION IF EXISTS task_tally_move(integer, varchar, date, date, integer)")
    else:
        for name in ("task_tally_insert", "task_tally_delete", "task_tally_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_tasks_completed_tally", table_name="tasks")
    op.drop_index("ix_tasks_assigned_tally", table_name="tasks")
    op.drop_index("ix_task_events_field_at", table_name="task_events")
    op.drop_index("ix_task_tallies_day", table_name="task_tallies")
    op.drop_table("task_tallies")
