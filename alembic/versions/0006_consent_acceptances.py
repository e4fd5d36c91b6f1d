"""consent_acceptances: the risk disclosure and terms versions each client accepted

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:10:00.000000

A live run starts only once the client accepted the current version of every consent document
(``tradebot.consent``). The table holds one client's data: the application role's privileges
and forced row-level security, as every tenant table (``tradebot.kit.rls``). Acceptances are
evidence: the application role may add them, never change or delete them.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from tradebot.kit import rls

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLE = "consent_acceptances"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("document", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("ip", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("accepted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_acceptances_client_document", ["client_id", "document"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.grant_tenant_table(TABLE, "SELECT, INSERT") + rls.enable_tenant_rls(
            TABLE
        ):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.disable_tenant_rls(TABLE) + rls.revoke_tenant_table(TABLE):
            op.execute(statement)
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_consent_acceptances_client_document")
    op.drop_table(TABLE)
