"""Recurring duties (a series of tasks, each occurrence once) and coordinating units' reports

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tally_triggers_again() -> None:
    """SQLite alters `tasks` by a copy, which drops its triggers: the kept counts' triggers
    of 0011 are created again on the new table (PostgreSQL alters in place)."""
    if op.get_context().dialect.name != "sqlite":
        return
    path = Path(__file__).with_name("0011_task_tallies.py")
    spec = importlib.util.spec_from_file_location("tallies_0011", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.create_triggers()


def upgrade() -> None:
    op.create_table(
        "task_series",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("ended_by_id", sa.Integer, sa.ForeignKey("officials.id"), nullable=True),
    )
    with op.batch_alter_table("tasks") as table:  # SQLite adds a foreign key by a copy
        table.add_column(sa.Column("series_id", sa.Integer, nullable=True))
        table.add_column(sa.Column("series_date", sa.Date, nullable=True))
        table.create_foreign_key(
            "fk_tasks_series_id_task_series", "task_series", ["series_id"], ["id"]
        )
    _tally_triggers_again()
    op.create_index("ix_tasks_series_date", "tasks", ["series_id", "series_date"], unique=True)
    op.create_table(
        "contributions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "task_id", sa.Integer, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False),
        sa.Column("official_id", sa.Integer, sa.ForeignKey("officials.id"), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("percent", sa.Integer, nullable=True),
        sa.Column("content", sa.Text, nullable=False),
    )
    op.create_index("ix_contributions_task", "contributions", ["task_id", "id"])
    op.create_index("ix_contributions_at", "contributions", ["at"])


def downgrade() -> None:
    op.drop_index("ix_contributions_at", table_name="contributions")
    op.drop_index("ix_contributions_task", table_name="contributions")
    op.drop_table("contributions")
    op.drop_index("ix_tasks_series_date", table_name="tasks")
    with op.batch_alter_table("tasks") as table:
        table.drop_constraint("fk_tasks_series_id_task_series", type_="foreignkey")
        table.drop_column("series_date")
        table.drop_column("series_id")
    _tally_triggers_again()
    op.drop_table("task_series")
