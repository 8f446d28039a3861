"""One flood budget for every bot process: the channel's next send slot, and each chat's

Revision ID: 0015
Revises: 0013
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "send_budgets",
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("paused_until", sa.Float(), nullable=False, server_default="0"),
    )
    op.create_table(
        "chat_send_budgets",
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("chat_id", sa.String(64), primary_key=True),
        sa.Column("next_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("chat_send_budgets")
    op.drop_table("send_budgets")
