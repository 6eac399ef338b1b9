"""certificates: record certificates as issued (CQ-17), insert-only

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 03:10:00
"""

import sqlalchemy as sa
from alembic import op

from volcredit.store import append_only

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("certificate_no", sa.String(length=32), nullable=False),
        sa.Column("volunteer_no", sa.String(length=64), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issuer_kind", sa.String(length=16), nullable=False),
        sa.Column("issuer_uscc", sa.String(length=18), nullable=True),
        sa.Column("organisation", sa.String(length=18), nullable=True),
        sa.Column("period_from", sa.Date(), nullable=True),
        sa.Column("period_to", sa.Date(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("certificate_no", name=op.f("pk_certificates")),
    )
    op.create_index(
        op.f("ix_certificates_volunteer_no"), "certificates", ["volunteer_no"], unique=False
    )
    append_only.create(op, "certificates", "CQ-17")


def downgrade() -> None:
    append_only.drop(op, "certificates")
    op.drop_index(op.f("ix_certificates_volunteer_no"), table_name="certificates")
    op.drop_table("certificates")
