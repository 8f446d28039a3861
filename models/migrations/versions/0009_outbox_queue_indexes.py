"""the outbox's queue indexes: what holds a chat's next message back, and whether anything is due

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOLDING = "state = 'sending' OR (state = 'pending' AND attempts > 0)"


def upgrade() -> None:
    op.create_index(
        "ix_outbox_holding",
        "outbox",
        ["channel", "chat_id", "priority", "id"],
        unique=False,
        sqlite_where=sa.text(HOLDING),
        postgresql_where=sa.text(HOLDING),
    )
    op.create_index("ix_outbox_waiting", "outbox", ["state", "channel", "not_before"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_waiting", table_name="outbox")
    op.drop_index("ix_outbox_holding", table_name="outbox")
