"""Kept counts of open tasks per lead unit × day of their last update (Vietnam's time), by
day, month and year, maintained by triggers on `tasks` in the same transaction as every change

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29

What `/quahan`'s "chưa cập nhật" line, the dashboard and the report count (open tasks not
updated since before a day) without reading every open task. As with 0011's triggers, a
later migration that rebuilds `tasks` on SQLite (batch_alter_table copies the table) drops
these: it must create them again (`create_triggers` below), and tests/test_tallies.py would
fail.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "unit_id, grain, day"
# `updated_at` is stored in UTC; its day is the day in Vietnam (UTC+7, no daylight saving),
# as `models/silence_tallies.DAY_OFFSET` reads it.
SQLITE_DAY = "date({row}.updated_at, '+7 hours')"
PG_DAY = "({row}.updated_at + interval '7 hours')::date"


def _sqlite_moves(row: str, sign: str) -> str:
    day = SQLITE_DAY.format(row=row)
    buckets = {
        "d": day,
        "m": f"date({day}, 'start of month')",
        "y": f"date({day}, 'start of year')",
    }
    return "\n".join(
        f"INSERT INTO silence_tallies ({KEY}, n) VALUES ({row}.lead_unit_id, '{grain}',"
        f" {bucket}, {sign}1) ON CONFLICT ({KEY}) DO UPDATE SET n = n {sign} 1;"
        for grain, bucket in buckets.items()
    )


SQLITE_CHANGED = (
    "((OLD.status = 'done') IS NOT (NEW.status = 'done')"
    " OR OLD.lead_unit_id IS NOT NEW.lead_unit_id"
    f" OR {SQLITE_DAY.format(row='OLD')} IS NOT {SQLITE_DAY.format(row='NEW')})"
)
PG_CHANGED = (
    "((OLD.status = 'done') IS DISTINCT FROM (NEW.status = 'done')"
    " OR OLD.lead_unit_id IS DISTINCT FROM NEW.lead_unit_id"
    f" OR {PG_DAY.format(row='OLD')} IS DISTINCT FROM {PG_DAY.format(row='NEW')})"
)

PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION silence_tally_move(unit integer, updated timestamp,
                                              delta integer) RETURNS void AS $$
DECLARE
    bucket date := (updated + interval '7 hours')::date;
BEGIN
    INSERT INTO silence_tallies ({KEY}, n) VALUES
        (unit, 'd', bucket, delta),
        (unit, 'm', date_trunc('month', bucket)::date, delta),
        (unit, 'y', date_trunc('year', bucket)::date, delta)
    ON CONFLICT ({KEY}) DO UPDATE SET n = silence_tallies.n + EXCLUDED.n;
END $$ LANGUAGE plpgsql;
---
CREATE OR REPLACE FUNCTION silence_tally() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'done' THEN
        PERFORM silence_tally_move(OLD.lead_unit_id, OLD.updated_at, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status <> 'done' THEN
        PERFORM silence_tally_move(NEW.lead_unit_id, NEW.updated_at, 1);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""


def create_triggers() -> None:
    if op.get_context().dialect.name == "postgresql":
        for function in PG_FUNCTIONS.split("---"):  # asyncpg takes one statement at a time
            op.execute(function)
        op.execute(
            "CREATE TRIGGER silence_tally_insert_delete AFTER INSERT OR DELETE ON tasks"
            " FOR EACH ROW EXECUTE FUNCTION silence_tally()"
        )
        op.execute(
            "CREATE TRIGGER silence_tally_update AFTER UPDATE OF status, updated_at,"
            f" lead_unit_id ON tasks FOR EACH ROW WHEN {PG_CHANGED}"
            " EXECUTE FUNCTION silence_tally()"
        )
        return
    op.execute(
        "CREATE TRIGGER silence_tally_insert AFTER INSERT ON tasks"
        f" WHEN NEW.status <> 'done' BEGIN\n{_sqlite_moves('NEW', '+')}\nEND"
    )
    op.execute(
        "CREATE TRIGGER silence_tally_delete AFTER DELETE ON tasks"
        f" WHEN OLD.status <> 'done' BEGIN\n{_sqlite_moves('OLD', '-')}\nEND"
    )
    op.execute(
        "CREATE TRIGGER silence_tally_leave AFTER UPDATE OF status, updated_at, lead_unit_id"
        f" ON tasks WHEN OLD.status <> 'done' AND {SQLITE_CHANGED} BEGIN\n"
        f"{_sqlite_moves('OLD', '-')}\nEND"
    )
    op.execute(
        "CREATE TRIGGER silence_tally_enter AFTER UPDATE OF status, updated_at, lead_unit_id"
        f" ON tasks WHEN NEW.status <> 'done' AND {SQLITE_CHANGED} BEGIN\n"
        f"{_sqlite_moves('NEW', '+')}\nEND"
    )


def _fill() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    day = (PG_DAY if postgres else SQLITE_DAY).format(row="tasks")
    for grain in ("d", "m", "y"):
        if grain == "d":
            bucket = day
        elif postgres:
            bucket = f"date_trunc('{'month' if grain == 'm' else 'year'}', {day})::date"
        else:
            bucket = f"date({day}, 'start of {'month' if grain == 'm' else 'year'}')"
        op.execute(
            f"INSERT INTO silence_tallies ({KEY}, n) SELECT lead_unit_id, '{grain}', {bucket},"
            " count(*) FROM tasks WHERE status <> 'done' GROUP BY 1, 2, 3"
        )


def upgrade() -> None:
    op.create_table(
        "silence_tallies",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("grain", sa.String(1), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit_id", "grain", "day", name="pk_silence_tallies"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_silence_tallies_day", "silence_tallies", ["grain", "day", "unit_id", "n"])
    _fill()
    create_triggers()


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS silence_tally_update ON tasks")
        op.execute("DROP TRIGGER IF EXISTS silence_tally_insert_delete ON tasks")
        op.execute("DROP FUNCTION IF EXISTS silence_tally()")
        op.execute("DROP FUNCTION IF EXISTS silence_tally_move(integer, timestamp, integer)")
    else:
        for name in (
            "silence_tally_insert",
            "silence_tally_delete",
            "silence_tally_leave",
            "silence_tally_enter",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_silence_tallies_day", table_name="silence_tallies")
    op.drop_table("silence_tallies")
