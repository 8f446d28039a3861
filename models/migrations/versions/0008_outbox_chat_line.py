"""an index for each chat's queue in the outbox (per-chat order)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_outbox_chat_line", "outbox", ["channel", "chat_id", "priority", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_chat_line", table_name="outbox")
