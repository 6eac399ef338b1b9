"""history: index by event name and date (identification, announcements, spot checks)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 02:40:00
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not in batch mode: recreating the table on SQLite would drop its append-only triggers.
    op.create_index("ix_history_event_date", "history", ["event", "date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_history_event_date", table_name="history")
