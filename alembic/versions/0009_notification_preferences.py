"""notification_preferences: a client's channels, fill alerts and quiet hours

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:30:00.000000

One row per client that changed the defaults. Tenant data: the application role's privileges
and forced row-level security (``tradebot.kit.rls``).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from tradebot.kit import rls

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLE = "notification_preferences"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("daily_email", sa.Boolean(), nullable=False),
        sa.Column("telegram_alerts", sa.Boolean(), nullable=False),
        sa.Column("fill_alerts", sa.Boolean(), nullable=False),
        sa.Column("quiet_from_hour", sa.Integer(), nullable=True),
        sa.Column("quiet_to_hour", sa.Integer(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("client_id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        statements = rls.grant_tenant_table(TABLE, "SELECT, INSERT, UPDATE")
        for statement in statements + rls.enable_tenant_rls(TABLE):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.disable_tenant_rls(TABLE) + rls.revoke_tenant_table(TABLE):
            op.execute(statement)
    op.drop_table(TABLE)
