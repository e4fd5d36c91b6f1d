"""encrypted exchange credentials, master key versions, audit log, row-level security

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:32:22.402662

On PostgreSQL this also creates the application role ``tradebot_app`` (if missing), grants it
what tenant transactions need, and forces row-level security on every tenant table (see
``tradebot.kit.rls``). SQLite has no roles or policies: those steps are skipped there.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from tradebot.kit import rls

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# table -> (client column, privileges of the application role)
TENANT_TABLES = {
    "clients": ("id", "SELECT, UPDATE"),
    "bot_runs": ("client_id", "SELECT, INSERT, UPDATE, DELETE"),
    "bot_orders": ("client_id", "SELECT, INSERT, UPDATE, DELETE"),
    "bot_fills": ("client_id", "SELECT, INSERT, UPDATE, DELETE"),
    "bot_inventory_snapshots": ("client_id", "SELECT, INSERT, UPDATE, DELETE"),
    "bot_guard_state": ("client_id", "SELECT, INSERT, UPDATE, DELETE"),
    "client_api_credentials": ("client_id", "SELECT, INSERT, UPDATE, DELETE"),
    "audit_log": ("client_id", "SELECT, INSERT"),
}
# Not tenant data: how to derive each master key version, and a check value (no key).
SHARED_TABLES = {"master_key_meta": "SELECT"}


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "master_key_meta",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kdf", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("kdf_params", sa.JSON(), nullable=False),
        sa.Column("check_nonce", sa.LargeBinary(), nullable=False),
        sa.Column("check_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("retired_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_client_at", ["client_id", "at"], unique=False)

    op.create_table(
        "client_api_credentials",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("exchange", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("key_id_last4", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("rotated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "client_id", "exchange", "label", name="uq_client_api_credentials_label"
        ),
    )
    with op.batch_alter_table("client_api_credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_client_api_credentials_client_id"), ["client_id"], unique=False
        )

    if _is_postgresql():
        _run(rls.create_app_role())
        for table, privileges in SHARED_TABLES.items():
            _run(rls.grant_tenant_table(table, privileges))
        for table, (column, privileges) in TENANT_TABLES.items():
            _run(rls.grant_tenant_table(table, privileges))
            _run(rls.enable_tenant_rls(table, column))


def downgrade() -> None:
    if _is_postgresql():
        # The role is cluster-wide (other databases may use it): only this database's grants go.
        for table in TENANT_TABLES:
            _run(rls.disable_tenant_rls(table))
            _run(rls.revoke_tenant_table(table))
        for table in SHARED_TABLES:
            _run(rls.revoke_tenant_table(table))
        _run(rls.revoke_app_schema())

    with op.batch_alter_table("client_api_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_api_credentials_client_id"))
    op.drop_table("client_api_credentials")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_client_at")
    op.drop_table("audit_log")
    op.drop_table("master_key_meta")
