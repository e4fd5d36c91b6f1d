"""notification_preferences.alert_emails: a client's choice of emails about its runs

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 11:10:00.000000

Guard trips and stopped runs by email follow this choice (on by default, as for existing rows);
mails about the account itself (keys refused, trial ending, payment failed) do not.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "notification_preferences",
        sa.Column("alert_emails", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    op.drop_column("notification_preferences", "alert_emails")
