"""telegram_chats: Telegram chats linked to a client, and how far their alerts went

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:25:00.000000

Not a tenant table, as ``users``: a message from Telegram names only its chat, resolved to its
client on the operator connection before any tenant is set. The application role has no
privileges on it.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLE = "telegram_chats"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("linked_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("linked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("fill_cursor", sa.BigInteger(), nullable=False),
        sa.Column("guard_cursor", sa.Integer(), nullable=False),
        sa.Column("runs_checked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("chat_id"),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_telegram_chats_client_id"), ["client_id"])


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telegram_chats_client_id"))
    op.drop_table(TABLE)
