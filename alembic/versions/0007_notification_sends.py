"""notification_sends: every notification sent to a client and how it went

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:20:00.000000

A message (the daily P&L email) is recorded ``queued`` before its arq job is enqueued, then
``delivered``, ``retrying`` (with the next attempt's time) or ``failed``. One row per client,
channel, kind and key (the day): a second pass of the cron queues nothing new. Tenant data:
the application role's privileges and forced row-level security (``tradebot.kit.rls``).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from tradebot.kit import rls

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLE = "notification_sends"
String = sqlmodel.sql.sqltypes.AutoString
Moment = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", String(length=64), nullable=False),
        sa.Column("channel", String(length=16), nullable=False),
        sa.Column("kind", String(length=32), nullable=False),
        sa.Column("key", String(length=64), nullable=False),
        sa.Column("recipients", String(length=1000), nullable=False),
        sa.Column("subject", String(length=200), nullable=False),
        sa.Column("status", String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", String(length=500), nullable=True),
        sa.Column("next_attempt_at", Moment(), nullable=True),
        sa.Column("created_at", Moment(), nullable=False),
        sa.Column("updated_at", Moment(), nullable=False),
        sa.Column("delivered_at", Moment(), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "client_id", "channel", "kind", "key", name="uq_notification_sends_key"
        ),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_sends_client_id"), ["client_id"])
        batch_op.create_index("ix_notification_sends_status", ["status", "next_attempt_at"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.grant_tenant_table(
            TABLE, "SELECT, INSERT, UPDATE"
        ) + rls.enable_tenant_rls(TABLE):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.disable_tenant_rls(TABLE) + rls.revoke_tenant_table(TABLE):
            op.execute(statement)
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_notification_sends_status")
        batch_op.drop_index(batch_op.f("ix_notification_sends_client_id"))
    op.drop_table(TABLE)
