"""transfers: imported volunteer transfer packages (CQ-16, HN-3), insert-only

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 06:00:00
"""

import sqlalchemy as sa
from alembic import op

from volcredit.store import append_only

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("volunteer_no", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("package", sa.JSON(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        sa.UniqueConstraint("sha256", name=op.f("uq_transfers_sha256")),
    )
    op.create_index(op.f("ix_transfers_volunteer_no"), "transfers", ["volunteer_no"], unique=False)
    append_only.create(op, "transfers", "CQ-16")


def downgrade() -> None:
    append_only.drop(op, "transfers")
    op.drop_index(op.f("ix_transfers_volunteer_no"), table_name="transfers")
    op.drop_table("transfers")
