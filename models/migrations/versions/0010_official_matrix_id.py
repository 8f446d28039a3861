"""An official's Matrix account from officials.csv, which links their first direct chat

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("officials", sa.Column("matrix_id", sa.String(255), nullable=True))
    op.create_index("ix_officials_matrix_id", "officials", ["matrix_id"])


def downgrade() -> None:
    op.drop_index("ix_officials_matrix_id", table_name="officials")
    with op.batch_alter_table("officials") as table:  # SQLite drops a column by a copy
        table.drop_column("matrix_id")
