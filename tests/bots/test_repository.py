"""The run status read (``run_status``): one statement, on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.clients.factories import make_client
from tests.conftest import unique_id
from tradebot.db import create_engine, session_factory
from tradebot.engine.orders import OrderStatus
from tradebot.engine.types import Side
from tradebot.errors import NotFoundError
from tradebot.kit.scope import ClientScope
from tradebot.runs.repository import run_status
from tradebot.runs.store import SqlRunStore
from tradebot.runtime.store import (
    FillRecord,
    InventorySnapshot,
    OrderUpdate,
    RunRecord,
    StoredOrder,
)


@pytest.fixture(params=["postgresql", "sqlite"])
async def sessions(
    request: pytest.FixtureRequest, pg_url: str, sqlite_url: str
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(pg_url if request.param == "postgresql" else sqlite_url)
    yield session_factory(engine)
    await engine.dispose()


async def _status(
    sessions: async_sessionmaker[AsyncSession], client_id: str, run_id: str
) -> dict[str, Any]:
    return dict(await run_status(sessions, ClientScope.of(client_id), run_id))


def _order(run_id: str, line: int, status: OrderStatus) -> StoredOrder:
    return StoredOrder(f"{run_id}-{line}", line, 0, Side.BUY, "limit", 100.0, 1.0, status, 0)


def _snapshot(ts: int, equity: float) -> InventorySnapshot:
    return InventorySnapshot(ts, 100.0, 1.0, 50.0, equity, 2.0, 0.5, 3, 4)


async def test_status_of_a_new_run_has_no_snapshot_and_nothing_counted(sessions):
    client_id = await make_client(sessions)
    store = SqlRunStore(sessions, client_id, unique_id("run"))
    await store.create_run(RunRecord(store.run_id, client_id, "paper", "binance", "BTC/USDT", 0))

    status = await _status(sessions, client_id, store.run_id)

    assert (status["id"], status["status"], status["config"]) == (store.run_id, "created", {})
    counted = {name: status[name] for name in ("fills", "open_orders", "ts", "equity")}
    assert counted == {"fills": 0, "open_orders": 0, "ts": None, "equity": None}


async def test_status_counts_resting_orders_and_recorded_fills_and_shows_the_newest_snapshot(
    sessions,
):
    client_id = await make_client(sessions)
    store = SqlRunStore(sessions, client_id, unique_id("run"))
    await store.create_run(RunRecord(store.run_id, client_id, "paper", "binance", "BTC/USDT", 0))
    statuses = (OrderStatus.OPEN, OrderStatus.SUBMITTING, OrderStatus.FILLED, OrderStatus.OPEN)
    await store.add_orders([_order(store.run_id, n, s) for n, s in enumerate(statuses)])
    filled = OrderUpdate(f"{store.run_id}-0", OrderStatus.FILLED, 5, filled_qty=1.0)
    fill = FillRecord("t1", filled.client_order_id, Side.BUY, 0, 100.0, 1.0, 0.1, "USDT", 5)
    await store.record_fills([fill], [filled], [1.0], 5)
    for ts, equity in ((3_000, 99.0), (9_000, 101.5), (6_000, 100.0)):  # stored out of order
        await store.add_snapshot(_snapshot(ts, equity))

    status = await _status(sessions, client_id, store.run_id)

    assert (status["fills"], status["open_orders"]) == (1, 2)  # submitting and one open rest
    assert (status["ts"], status["equity"], status["round_trips"]) == (9_000, 101.5, 3)


async def test_status_of_another_clients_run_is_not_found(sessions):
    owner, other = await make_client(sessions), await make_client(sessions)
    store = SqlRunStore(sessions, owner, unique_id("run"))
    await store.create_run(RunRecord(store.run_id, owner, "paper", "binance", "BTC/USDT", 0))
    await store.add_snapshot(_snapshot(1_000, 100.0))

    with pytest.raises(NotFoundError):
        await _status(sessions, other, store.run_id)
