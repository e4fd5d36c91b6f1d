"""The status of the latest runs across clients: what the dashboard page and ``/api/status``
show.

The runs come from the operators' cross-client listing (``admin.queries``); each run's
figures are read inside its own client's scope, as the API reads them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.admin.queries import OperatorQueries
from tradebot.db import transaction
from tradebot.engine import core
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.models.runs import BotRun
from tradebot.runs.repository import (
    FillRepository,
    GuardRepository,
    OrderRepository,
    SnapshotRepository,
)

STATUS_LIMIT = 100
"""Runs on the page: the newest ones. A fleet's full listing is the admin API's job."""


class RunStatusRow(BaseModel):
    run_id: str
    client_id: str
    mode: str
    pair: str
    status: str
    pnl_usd: float | None
    """Equity minus investment at the latest snapshot (None before the first)."""
    pnl_as_of_ms: int | None
    grid_profit_usd: float
    """Realised by completed round trips, as of the run's last commit."""
    open_orders: int
    guards: list[str]
    """Active guards stopping it: its own and its client's kill switch ("guard: reason")."""
    last_fill_ms: int | None
    stale_s: float
    """Seconds since the run last wrote anything (a running run that stays silent is stuck)."""


class FleetStatus(BaseModel):
    generated_at: datetime
    runs: list[RunStatusRow]


def _seconds_since(moment: datetime, now: float) -> float:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return round(max(0.0, now - aware.timestamp()), 1)


async def _row(session: AsyncSession, run: BotRun, now: float) -> RunStatusRow:
    scope = ClientScope.of(run.client_id)
    latest = await SnapshotRepository(session, scope).latest(run.id)
    newest_fill = await FillRepository(session, scope).newest(run.id)
    working = await OrderRepository(session, scope).working(run.id)
    guards = await GuardRepository(session, scope).for_run(run.id)
    investment = float(run.config.get("investment", 0.0))
    state = run.state
    return RunStatusRow(
        run_id=run.id,
        client_id=run.client_id,
        mode=run.mode,
        pair=run.pair,
        status=run.status,
        pnl_usd=round(latest.equity - investment, 8) if latest is not None else None,
        pnl_as_of_ms=latest.ts if latest is not None else None,
        grid_profit_usd=float(state[core.GRID_PROFIT]) if len(state) > core.GRID_PROFIT else 0.0,
        open_orders=len(working),
        guards=[f"{g.guard}: {g.reason}" for g in guards if g.active],
        last_fill_ms=newest_fill.ts if newest_fill is not None else None,
        stale_s=_seconds_since(run.updated_at, now),
    )


async def fleet_status(
    sessions: async_sessionmaker[AsyncSession], limit: int = STATUS_LIMIT
) -> FleetStatus:
    """The newest ``limit`` runs of every client with their figures."""
    async with transaction(sessions) as session:
        runs = list(await OperatorQueries(session).runs(None, None, limit))
    now = time.time()
    rows: list[RunStatusRow] = []
    by_client: dict[str, list[BotRun]] = {}
    for run in runs:
        by_client.setdefault(run.client_id, []).append(run)
    for client_id, client_runs in by_client.items():
        async with client_transaction(sessions, ClientScope.of(client_id)) as session:
            rows += [await _row(session, run, now) for run in client_runs]
    order = {run.id: n for n, run in enumerate(runs)}
    rows.sort(key=lambda row: order[row.run_id])
    return FleetStatus(generated_at=datetime.now(UTC), runs=rows)
