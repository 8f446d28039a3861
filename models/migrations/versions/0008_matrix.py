"""Matrix: a third chat channel, room and user ids up to 255 characters, the bot's own state

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHAT = ("telegram", "zalo")
AUDIT = ("telegram", "zalo", "cli", "import", "system")
# table → (the enum its `channel` column holds, its values before 0008, the columns holding
# a chat's or a person's id on the channel)
TABLES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "chat_accounts": ("chat_channel", CHAT, ("external_user_id", "chat_id")),
    "conversations": ("chat_channel", CHAT, ("chat_id", "user_id")),
    "outbox": ("chat_channel", CHAT, ("chat_id",)),
    "task_events": ("channel", AUDIT, ()),
}


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def _with_matrix(values: tuple[str, ...]) -> tuple[str, ...]:
    return (*values[:2], "matrix", *values[2:])


def _alter(upgrading: bool) -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    width, was = (255, 64) if upgrading else (64, 255)
    for table, (name, old, columns) in TABLES.items():
        new = _with_matrix(old)
        before, after = (old, new) if upgrading else (new, old)
        if postgres:  # the CHECK (ck_<table>_<name>) is replaced; SQLite rebuilds the table
            op.drop_constraint(name, table, type_="check")
        elif table == "outbox":
            # Dropping the old outbox would cascade to its delivery attempts: keep them aside.
            op.execute("CREATE TEMPORARY TABLE attempts_0008 AS SELECT * FROM delivery_attempts")
        with op.batch_alter_table(table, recreate="auto" if postgres else "always") as batch:
            if not postgres:  # the rebuilt table takes its CHECK from the new type
                batch.alter_column(
                    "channel",
                    existing_type=_enum(name, before),
                    type_=_enum(name, after),
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
            op.create_check_constraint(name, table, sa.column("channel").in_(after))
        elif table == "outbox":
            op.execute("DELETE FROM delivery_attempts")
            op.execute("INSERT INTO delivery_attempts SELECT * FROM attempts_0008")
            op.execute("DROP TABLE attempts_0008")


def upgrade() -> None:
    _alter(upgrading=True)
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
    for table in ("chat_accounts", "conversations", "outbox"):
        op.execute(f"DELETE FROM {table} WHERE channel = 'matrix'")
    op.execute("UPDATE task_events SET channel = 'system' WHERE channel = 'matrix'")
    _alter(upgrading=False)
