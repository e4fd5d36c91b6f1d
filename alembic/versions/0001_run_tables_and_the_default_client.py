"""run tables and the default client

Revision ID: 0001
Revises:
Create Date: 2026-11-25 18:23:44.168142
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("plan", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("limits", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "bot_runs",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("exchange", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("pair", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("base_ts", sa.BigInteger(), nullable=False),
        sa.Column("clock_ts", sa.BigInteger(), nullable=False),
        sa.Column("stop_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bot_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_runs_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bot_runs_status"), ["status"], unique=False)

    op.create_table(
        "bot_guard_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("guard", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tripped_ts", sa.BigInteger(), nullable=False),
        sa.Column("tripped_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reset_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reset_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
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
    with op.batch_alter_table("bot_guard_state", schema=None) as batch_op:
        batch_op.create_index("ix_bot_guard_client_active", ["client_id", "active"], unique=False)

    op.create_table(
        "bot_inventory_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("base", sa.Float(), nullable=False),
        sa.Column("quote", sa.Float(), nullable=False),
        sa.Column("equity", sa.Float(), nullable=False),
        sa.Column("grid_profit", sa.Float(), nullable=False),
        sa.Column("fees", sa.Float(), nullable=False),
        sa.Column("round_trips", sa.Integer(), nullable=False),
        sa.Column("empty_line", sa.Integer(), nullable=False),
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
    with op.batch_alter_table("bot_inventory_snapshots", schema=None) as batch_op:
        batch_op.create_index("ix_bot_inventory_run_ts", ["run_id", "ts"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_bot_inventory_snapshots_client_id"), ["client_id"], unique=False
        )

    op.create_table(
        "bot_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("client_order_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("exchange_order_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("side", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("qty", sa.Float(), nullable=False),
        sa.Column("filled_qty", sa.Float(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_ts", sa.BigInteger(), nullable=False),
        sa.Column("updated_ts", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["bot_runs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_order_id", name="uq_bot_orders_client_order_id"),
    )
    with op.batch_alter_table("bot_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_orders_client_id"), ["client_id"], unique=False)
        batch_op.create_index("ix_bot_orders_run_status", ["run_id", "status"], unique=False)

    op.create_table(
        "bot_fills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("client_order_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("trade_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("side", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("qty", sa.Float(), nullable=False),
        sa.Column("fee", sa.Float(), nullable=False),
        sa.Column("fee_currency", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["bot_orders.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["bot_runs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "trade_id", name="uq_bot_fills_run_trade"),
    )
    with op.batch_alter_table("bot_fills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_fills_client_id"), ["client_id"], unique=False)
        batch_op.create_index("ix_bot_fills_run_ts", ["run_id", "ts"], unique=False)

    clients = sa.table(
        "clients",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("owner", sa.String),
        sa.column("plan", sa.String),
        sa.column("status", sa.String),
        sa.column("limits", sa.JSON),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        clients,
        [
            {
                "id": "default",
                "name": "Default client",
                "owner": "local",
                "plan": "trial",
                "status": "active",
                "limits": {},
                "created_at": now,
                "updated_at": now,
            }
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("bot_fills", schema=None) as batch_op:
        batch_op.drop_index("ix_bot_fills_run_ts")
        batch_op.drop_index(batch_op.f("ix_bot_fills_client_id"))

    op.drop_table("bot_fills")
    with op.batch_alter_table("bot_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_bot_orders_run_status")
        batch_op.drop_index(batch_op.f("ix_bot_orders_client_id"))

    op.drop_table("bot_orders")
    with op.batch_alter_table("bot_inventory_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_inventory_snapshots_client_id"))
        batch_op.drop_index("ix_bot_inventory_run_ts")

    op.drop_table("bot_inventory_snapshots")
    with op.batch_alter_table("bot_guard_state", schema=None) as batch_op:
        batch_op.drop_index("ix_bot_guard_client_active")

    op.drop_table("bot_guard_state")
    with op.batch_alter_table("bot_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_runs_status"))
        batch_op.drop_index(batch_op.f("ix_bot_runs_client_id"))

    op.drop_table("bot_runs")
    op.drop_table("clients")
