"""Matrix: a third chat channel, room and user ids up to 255 characters, the bot's own state

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("telegram", "zalo")
NEW = ("telegram", "zalo", "matrix")
# table → its columns holding a chat's or a person's id on the channel
IDS = {
    "chat_accounts": ("external_user_id", "chat_id"),
    "conversations": ("chat_id", "user_id"),
    "outbox": ("chat_id",),
}


def _channel(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values, name="chat_channel", native_enum=False, create_constraint=True, length=24
    )


def _alter(values: tuple[str, ...], width: int, was: int, before: tuple[str, ...]) -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, columns in IDS.items():
        if postgres:  # the CHECK (ck_<table>_chat_channel) is replaced; SQLite rebuilds the table
            op.drop_constraint("chat_channel", table, type_="check")
        elif table == "outbox":
            # Dropping the old outbox would cascade to its delivery attempts: keep them aside.
            op.execute("CREATE TEMPORARY TABLE attempts_0008 AS SELECT * FROM delivery_attempts")
        with op.batch_alter_table(table, recreate="auto" if postgres else "always") as batch:
            if not postgres:  # the rebuilt table takes its CHECK from the new type
                batch.alter_column(
                    "channel",
                    existing_type=_channel(before),
                    type_=_channel(values),
                    existing_nullable=False,
                )
            for column in columns:
                batch.alter_column(
                    column,
                    existing_type=sa.String(length=was),
                    type_=sa.String(length=width),
                    existing_nullable=False,
                )
        if postgres:
            op.create_check_constraint(
                "chat_channel",
                table,
                sa.column("channel").in_(values),
            )
        elif table == "outbox":
            op.execute("DELETE FROM delivery_attempts")
            op.execute("INSERT INTO delivery_attempts SELECT * FROM attempts_0008")
            op.execute("DROP TABLE attempts_0008")


def upgrade() -> None:
    _alter(NEW, 255, 64, OLD)
    op.create_table(
        "matrix_state",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("device_id", sa.String(length=255), nullable=True),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("next_batch", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_matrix_state")),
    )


def downgrade() -> None:
    op.drop_table("matrix_state")
    op.execute("DELETE FROM chat_accounts WHERE channel = 'matrix'")
    op.execute("DELETE FROM conversations WHERE channel = 'matrix'")
    op.execute("DELETE FROM outbox WHERE channel = 'matrix'")
    _alter(OLD, 64, 255, NEW)
