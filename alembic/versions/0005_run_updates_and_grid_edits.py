"""bot_fills by (run_id, id) for the run page's polls; run_requests.details for grid edits

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:10:00.000000

``GET /runs/{id}/updates?since=`` reads a run's fills newer than the last one the browser has
(the cursor is the fill's id, the order fills were recorded in: a fill the exchange reported
late has an old ``ts`` but a new id). Every second per open run page: the (run_id, id) index
makes it a range read of the new rows only. A grid edit of a running run is a run request
whose ``details`` hold the new grid (start and stop requests have none).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_bot_fills_run_id", "bot_fills", ["run_id", "id"], unique=False)
    with op.batch_alter_table("run_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("run_requests", schema=None) as batch_op:
        batch_op.drop_column("details")
    op.drop_index("ix_bot_fills_run_id", table_name="bot_fills")
