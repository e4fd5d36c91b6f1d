"""the SaaS API: login directory, bots, run requests, backtest jobs, subscriptions, Stripe events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 18:39:16.708135

Every new table holding one client's data gets the application role's privileges and forced
row-level security (``tradebot.kit.rls``). ``users`` does not: a login is resolved to its
client before any tenant is set, on the operator connection only.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from tradebot.kit import rls

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# table -> privileges of the application role (all keyed by client_id)
TENANT_TABLES = {
    "bots": "SELECT, INSERT, UPDATE, DELETE",
    "run_requests": "SELECT, INSERT, UPDATE",
    "backtest_jobs": "SELECT, INSERT, UPDATE, DELETE",
    "client_subscriptions": "SELECT, INSERT, UPDATE",
    "stripe_events": "SELECT, INSERT",
}


def _tenant_tables_secured(enable: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, privileges in TENANT_TABLES.items():
        statements = (
            rls.grant_tenant_table(table, privileges) + rls.enable_tenant_rls(table)
            if enable
            else rls.disable_tenant_rls(table) + rls.revoke_tenant_table(table)
        )
        for statement in statements:
            op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "bots",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("exchange", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("pair", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bots_client_id"), ["client_id"], unique=False)

    op.create_table(
        "client_subscriptions",
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("stripe_customer_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column(
            "stripe_subscription_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        ),
        sa.Column("plan", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("subscription_created", sa.BigInteger(), nullable=False),
        sa.Column("state_ts", sa.BigInteger(), nullable=False),
        sa.Column("current_period_end", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
        ),
        sa.PrimaryKeyConstraint("client_id"),
    )
    op.create_table(
        "stripe_events",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "users",
        sa.Column("sub", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
        ),
        sa.PrimaryKeyConstraint("sub"),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_client_id"), ["client_id"], unique=False)

    op.create_table(
        "backtest_jobs",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("bot_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("candles", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("fills_csv", sa.Text(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bot_id"],
            ["bots.id"],
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("backtest_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_backtest_jobs_client_id"), ["client_id"], unique=False)

    op.create_table(
        "run_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("handled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["bot_runs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("run_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_requests_client_id"), ["client_id"], unique=False)
        batch_op.create_index(
            "ix_run_requests_status_created", ["status", "created_at"], unique=False
        )

    _tenant_tables_secured(True)


def downgrade() -> None:
    _tenant_tables_secured(False)
    with op.batch_alter_table("run_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_run_requests_status_created")
        batch_op.drop_index(batch_op.f("ix_run_requests_client_id"))

    op.drop_table("run_requests")
    with op.batch_alter_table("backtest_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_backtest_jobs_client_id"))

    op.drop_table("backtest_jobs")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_client_id"))

    op.drop_table("users")
    op.drop_table("stripe_events")
    op.drop_table("client_subscriptions")
    with op.batch_alter_table("bots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bots_client_id"))

    op.drop_table("bots")
