"""Kept task counts for the whole city: the counts of `task_tallies` without the unit, by
day, month and year, maintained by triggers on `tasks` in the same transaction as every change

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-29

City-wide `/thongke` read the city's columns as sums over every unit's rows of `task_tallies`
(about 8,000 index entries); these are a few dozen. As with 0011's triggers, a later
migration that rebuilds `tasks` on SQLite (batch_alter_table copies the table) drops these:
it must create them again (`create_triggers` below), and tests/test_tallies.py would fail.

On PostgreSQL the kept counts are small rows updated all day: every update writes new entries
in their covering indexes and clears the page's all-visible bit, so with the default
autovacuum (a fifth of a table dead first: 160,000 rows of `task_tallies` on the 1 M-task
city) the city's sums read swollen indexes and fetch from the table what the index holds.
On the benchmark city, a few hundred commands after the build took the ranking from 1,000
to 2,700 pages; compacted and vacuumed, it reads 46. So the tables are vacuumed after a
thousand changed rows, and their indexes are built again once here.

On PostgreSQL a change to a task waits for any open transaction that moved a count of the
same day, month or year (a row lock on the city's row until that transaction commits), as it
already did for the unit's rows of `task_tallies`: long imports lock both.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TALLY_TABLES = ("task_tallies", "silence_tallies", "city_tallies")
VACUUM_AFTER = 1000  # dead rows: about 200 task changes (each moves up to 6 rows)

# As in 0011: an ongoing task (no deadline) is counted on this day.
NO_DEADLINE = "9999-12-31"
KEY = "done, grain, day, late"
SQLITE_CHANGED = (
    "OLD.status IS NOT NEW.status OR OLD.deadline IS NOT NEW.deadline"
    " OR OLD.completed_date IS NOT NEW.completed_date"
)


def _sqlite_moves(row: str, sign: str) -> str:
    done = f"(CASE WHEN {row}.status = 'done' THEN 1 ELSE 0 END)"
    day = (
        f"(CASE WHEN {row}.status = 'done' THEN {row}.completed_date"
        f" ELSE COALESCE({row}.deadline, '{NO_DEADLINE}') END)"
    )
    late = (
        f"(CASE WHEN {row}.status = 'done' AND {row}.deadline IS NOT NULL"
        f" AND {row}.completed_date > {row}.deadline THEN 1 ELSE 0 END)"
    )
    buckets = {
        "d": day,
        "m": f"date({day}, 'start of month')",
        "y": f"date({day}, 'start of year')",
    }
    return "\n".join(
        f"INSERT INTO city_tallies ({KEY}, n) VALUES ({done}, '{grain}', {bucket}, {late},"
        f" {sign}1) ON CONFLICT ({KEY}) DO UPDATE SET n = n {sign} 1;"
        for grain, bucket in buckets.items()
    )


PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION city_tally_move(status varchar, deadline date, completed date,
                                           delta integer) RETURNS void AS $$
DECLARE
    is_done boolean := status = 'done';
    bucket date := CASE WHEN status = 'done' THEN completed
                        ELSE COALESCE(deadline, DATE '{NO_DEADLINE}') END;
    is_late boolean := status = 'done' AND deadline IS NOT NULL AND completed > deadline;
BEGIN
    INSERT INTO city_tallies ({KEY}, n) VALUES
        (is_done, 'd', bucket, is_late, delta),
        (is_done, 'm', date_trunc('month', bucket)::date, is_late, delta),
        (is_done, 'y', date_trunc('year', bucket)::date, is_late, delta)
    ON CONFLICT ({KEY}) DO UPDATE SET n = city_tallies.n + EXCLUDED.n;
END $$ LANGUAGE plpgsql;
---
CREATE OR REPLACE FUNCTION city_tally() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM city_tally_move(OLD.status, OLD.deadline, OLD.completed_date, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM city_tally_move(NEW.status, NEW.deadline, NEW.completed_date, 1);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""


def create_triggers() -> None:
    if op.get_context().dialect.name == "postgresql":
        for function in PG_FUNCTIONS.split("---"):  # asyncpg takes one statement at a time
            op.execute(function)
        op.execute(
            "CREATE TRIGGER city_tally_insert_delete AFTER INSERT OR DELETE ON tasks"
            " FOR EACH ROW EXECUTE FUNCTION city_tally()"
        )
        op.execute(
            "CREATE TRIGGER city_tally_update AFTER UPDATE OF status, deadline, completed_date"
            " ON tasks FOR EACH ROW WHEN ("
            + SQLITE_CHANGED.replace("IS NOT", "IS DISTINCT FROM")
            + ") EXECUTE FUNCTION city_tally()"
        )
        return
    op.execute(
        f"CREATE TRIGGER city_tally_insert AFTER INSERT ON tasks BEGIN\n"
        f"{_sqlite_moves('NEW', '+')}\nEND"
    )
    op.execute(
        f"CREATE TRIGGER city_tally_delete AFTER DELETE ON tasks BEGIN\n"
        f"{_sqlite_moves('OLD', '-')}\nEND"
    )
    op.execute(
        "CREATE TRIGGER city_tally_update AFTER UPDATE OF status, deadline, completed_date"
        f" ON tasks WHEN {SQLITE_CHANGED} BEGIN\n"
        f"{_sqlite_moves('OLD', '-')}\n{_sqlite_moves('NEW', '+')}\nEND"
    )


def upgrade() -> None:
    op.create_table(
        "city_tallies",
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("grain", sa.String(1), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("done", "grain", "day", "late", name="pk_city_tallies"),
        sqlite_with_rowid=False,
    )
    # The units' counts summed: what the triggers would have counted from the first task.
    op.execute(
        f"INSERT INTO city_tallies ({KEY}, n) SELECT done, grain, day, late, sum(n)"
        " FROM task_tallies GROUP BY done, grain, day, late HAVING sum(n) <> 0"
    )
    create_triggers()
    if op.get_context().dialect.name == "postgresql":
        for table in TALLY_TABLES:
            op.execute(
                f"ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0,"
                f" autovacuum_vacuum_threshold = {VACUUM_AFTER})"
            )
        for table in TALLY_TABLES[:2]:  # swollen since 0011 and 0018 (5 to 200 times)
            op.execute(f"REINDEX TABLE {table}")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in TALLY_TABLES[:2]:
            op.execute(
                f"ALTER TABLE {table} RESET (autovacuum_vacuum_scale_factor,"
                " autovacuum_vacuum_threshold)"
            )
        op.execute("DROP TRIGGER IF EXISTS city_tally_update ON tasks")
        op.execute("DROP TRIGGER IF EXISTS city_tally_insert_delete ON tasks")
        op.execute("DROP FUNCTION IF EXISTS city_tally()")
        op.execute("DROP FUNCTION IF EXISTS city_tally_move(varchar, date, date, integer)")
    else:
        for name in ("city_tally_insert", "city_tally_delete", "city_tally_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("city_tallies")
