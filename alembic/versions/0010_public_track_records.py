"""public_track_records: bots their client opted in to show publicly, anonymised

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:40:00.000000

Not a tenant table, as ``users``: a visitor names only the slug, resolved to its client on the
operator connection. The application role has no privileges on it.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "public_track_records"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("bot_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("slug"),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_public_track_records_client_id"), ["client_id"])


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_public_track_records_client_id"))
    op.drop_table(TABLE)
