"""indexes for the minute's mail events: each of its reads by an index, not a table scan

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 01:00:00.000000

The worker's mail cron (``notifications.mail_events``) reads, every minute, the last day's
tripped guards, ended runs, failed payments and sends, and the trials about to end. Those
tables only grow (every run a customer ever started stays in ``bot_runs``): without these,
each read was a scan of the whole table, a minute at a time, for ever.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_bot_runs_status_updated", "bot_runs", ["status", "updated_at"]),
    ("ix_bot_guard_tripped_at", "bot_guard_state", ["tripped_at"]),
    ("ix_stripe_events_type_received", "stripe_events", ["type", "received_at"]),
    ("ix_notification_sends_created", "notification_sends", ["created_at"]),
    ("ix_clients_plan_created", "clients", ["plan", "created_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
