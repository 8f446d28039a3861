"""Other names a unit goes by (`Sở KH&ĐT;Sở KHĐT`), read when a notice names it; the tasks
read from a notice sent in chat, waiting for /giao

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("units", sa.Column("aliases", sa.String(1000), nullable=False, server_default=""))
    op.create_table(
        "task_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("official_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["official_id"],
            ["officials.id"],
            name=op.f("fk_task_proposals_official_id_officials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_proposals")),
        sa.UniqueConstraint("official_id", "channel", "chat_id", name="uq_task_proposals_chat"),
    )


def downgrade() -> None:
    op.drop_table("task_proposals")
    with op.batch_alter_table("units") as table:  # SQLite drops a column by a copy
        table.drop_column("aliases")
