"""case_files: files filed with due-process steps (BJ-16b, BJ-17a, BJ-18), insert-only

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 06:00:00
"""

import sqlalchemy as sa
from alembic import op

from volcredit.store import append_only

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_files",
        sa.Column("file_id", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("file_id", name=op.f("pk_case_files")),
    )
    op.create_index(op.f("ix_case_files_ref"), "case_files", ["ref"], unique=False)
    op.create_index(op.f("ix_case_files_seq"), "case_files", ["seq"], unique=False)
    append_only.create(op, "case_files", "BJ-23")


def downgrade() -> None:
    append_only.drop(op, "case_files")
    op.drop_index(op.f("ix_case_files_seq"), table_name="case_files")
    op.drop_index(op.f("ix_case_files_ref"), table_name="case_files")
    op.drop_table("case_files")
