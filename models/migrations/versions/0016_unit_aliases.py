"""Other names a unit goes by (`Sở KH&ĐT;Sở KHĐT`), read when a notice names it

Revision ID: 0016
Revises: 0010
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("units", sa.Column("aliases", sa.String(1000), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("units") as table:  # SQLite drops a column by a copy
        table.drop_column("aliases")
