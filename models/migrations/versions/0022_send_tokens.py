"""The shared flood budget's window: N tokens a channel, each held from its send's slot until
a second after the send was answered

Revision ID: 0022
Revises: 0018
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "send_tokens",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("free_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "slot", name=op.f("pk_send_tokens")),
    )


def downgrade() -> None:
    op.drop_table("send_tokens")
