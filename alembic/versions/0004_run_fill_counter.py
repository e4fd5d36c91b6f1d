"""bot_runs.fill_count: how many fills a run recorded, kept with the fills

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 09:00:00.000000

The run status is the API's most polled read; counting a month-long run's fills on every poll
cost more database time than everything else in it (row-level security made the planner walk
the client's whole ``client_id`` index). ``runs.repository.RunRepository.record_fills`` adds
each batch's new fills to the counter in the same transaction that inserts them; this
migration counts the fills already stored. Runs on the operator connection (no tenant set), so
every client's runs are counted.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bot_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fill_count", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE bot_runs SET fill_count = "
        "(SELECT count(*) FROM bot_fills WHERE bot_fills.run_id = bot_runs.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("bot_runs", schema=None) as batch_op:
        batch_op.drop_column("fill_count")
