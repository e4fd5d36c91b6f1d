"""refund_requests and charge_disputes: refunds asked, issued through Stripe and confirmed;
chargebacks on a client's charges

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 11:20:00.000000

Both hold one client's data: the application role's privileges and forced row-level security,
as every tenant table (``tradebot.kit.rls``). The application role adds and updates rows (a
request becomes issued, then refunded; a dispute closes), never deletes them.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from tradebot.kit import rls

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = ("refund_requests", "charge_disputes")


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "refund_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", _text(64), nullable=False),
        sa.Column("plan", _text(32), nullable=False),
        sa.Column("reason", _text(500), nullable=False),
        sa.Column("status", _text(16), nullable=False),
        sa.Column("subject", _text(255), nullable=False),
        sa.Column("stripe_subscription_id", _text(64), nullable=True),
        sa.Column("stripe_charge_id", _text(64), nullable=True),
        sa.Column("stripe_refund_id", _text(64), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", _text(8), nullable=True),
        sa.Column("issued_by", _text(255), nullable=True),
        sa.Column("last_error", _text(500), nullable=True),
        sa.Column("requested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("issued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("refunded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_refund_requests_client_id", "refund_requests", ["client_id"])
    op.create_table(
        "charge_disputes",
        sa.Column("id", _text(64), nullable=False),
        sa.Column("client_id", _text(64), nullable=False),
        sa.Column("stripe_charge_id", _text(64), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", _text(8), nullable=False),
        sa.Column("reason", _text(64), nullable=False),
        sa.Column("status", _text(32), nullable=False),
        sa.Column("state_ts", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_charge_disputes_client_id", "charge_disputes", ["client_id"])
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            for statement in rls.grant_tenant_table(
                table, "SELECT, INSERT, UPDATE"
            ) + rls.enable_tenant_rls(table):
                op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            for statement in rls.disable_tenant_rls(table) + rls.revoke_tenant_table(table):
                op.execute(statement)
    op.drop_index("ix_charge_disputes_client_id", table_name="charge_disputes")
    op.drop_table("charge_disputes")
    op.drop_index("ix_refund_requests_client_id", table_name="refund_requests")
    op.drop_table("refund_requests")
