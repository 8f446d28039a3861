"""a document's kind as written beside the kind it maps to; resolutions (nghị quyết)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ["conclusion", "directive", "decision", "notice", "plan", "letter", "instruction"]
CHECK = "ck_documents_document_kind"


def _allow(*kinds: str) -> None:
    # The enum's CHECK constraint lists the kinds; it is replaced, not altered, on both
    # databases (on SQLite the batch recreates the table with the new constraint).
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_="check")
        batch_op.create_check_constraint(op.f(CHECK), sa.column("kind").in_(kinds))


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind_label", sa.String(length=255), server_default="", nullable=False)
        )
    _allow(*KINDS, "resolution", "other")


def downgrade() -> None:
    op.execute("UPDATE documents SET kind = 'other' WHERE kind = 'resolution'")
    _allow(*KINDS, "other")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("kind_label")
