"""No parallel workers for scans of the kept counts (PostgreSQL)

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-29

The kept counts are read by small sums (a few thousand index entries at most), many times a
minute. Once their tables have grown pages that hold few live rows (updated all day, they do),
the planner chose a parallel plan for city-wide `/quahan`'s "not updated" count: two worker
processes started for a 1 ms sum, 10 to 20 ms on a busy 2-core machine. A scan of these
tables is never worth a worker; the report's other reads keep theirs.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TALLY_TABLES = ("task_tallies", "silence_tallies", "city_tallies")


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table in TALLY_TABLES:
        op.execute(f"ALTER TABLE {table} SET (parallel_workers = 0)")


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table in TALLY_TABLES:
        op.execute(f"ALTER TABLE {table} RESET (parallel_workers)")
