"""The run loop's store: records come back as they were stored (one mapping by field name,
both ways), and ``bot_runs.fill_count`` keeps up with the fills it records."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.clients.factories import make_client
from tests.conftest import unique_id
from tradebot.engine.orders import ACTIVE, OrderStatus
from tradebot.engine.types import Side
from tradebot.runs.launcher import database
from tradebot.runs.store import SqlRunStore, client_runs
from tradebot.runtime.store import (
    FillRecord,
    GuardRecord,
    OrderUpdate,
    RunRecord,
    StoredOrder,
)


def _fill(trade_id: str, ts: int) -> FillRecord:
    return FillRecord(trade_id, f"o-{trade_id}", Side.BUY, 1, 100.0, 0.5, 0.05, "USDT", ts)


async def _new_run(sessions: async_sessionmaker[AsyncSession], client_id: str) -> SqlRunStore:
    store = SqlRunStore(sessions, client_id, unique_id("run"))
    await store.create_run(RunRecord(store.run_id, client_id, "paper", "binance", "BTC/USDT", 0))
    return store


async def _counted(sessions: async_sessionmaker[AsyncSession], run_id: str) -> tuple[int, int]:
    """The run's counter and its fill rows, read on the operator connection."""
    async with sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT fill_count, (SELECT count(*) FROM bot_fills WHERE run_id = :run) "
                    "FROM bot_runs WHERE id = :run"
                ),
                {"run": run_id},
            )
        ).one()
    return int(row[0]), int(row[1])


async def test_fill_count_follows_new_fills_and_ignores_replayed_ones(pg_sessions):
    await _replayed_fills_are_skipped(pg_sessions)


async def test_replayed_fills_are_skipped_on_the_embedded_database_too(sqlite_url: str):
    async with database(sqlite_url) as sessions:
        await _replayed_fills_are_skipped(sessions)


async def _replayed_fills_are_skipped(sessions: async_sessionmaker[AsyncSession]) -> None:
    """A restart books its trades again: the insert skips those stored, and says which it
    stored (the run's counter moves by those only)."""
    client_id = await make_client(sessions)
    store, other = await _new_run(sessions, client_id), await _new_run(sessions, client_id)
    assert await _counted(sessions, store.run_id) == (0, 0)

    new = await store.record_fills([_fill("t1", 1), _fill("t2", 2)], [], [1.0], 2)
    assert len(new) == 2
    again = await store.record_fills([_fill("t2", 2), _fill("t3", 3)], [], [1.0], 3)
    assert [f.trade_id for f in again] == ["t3"]  # t2 was recorded already: not counted twice
    await store.record_fills([], [], [1.0], 4)
    await other.record_fills([_fill("t1", 1)], [], [1.0], 1)

    assert await _counted(sessions, store.run_id) == (3, 3)
    assert await _counted(sessions, other.run_id) == (1, 1)


async def test_every_record_comes_back_as_it_was_stored(pg_sessions):
    client_id = await make_client(pg_sessions)
    store = SqlRunStore(pg_sessions, client_id, unique_id("run"))
    config = {"lower": 90_000.0, "levels": [1, 2]}
    record = RunRecord(
        store.run_id, client_id, "live", "binance", "BTC/USDT", 7, config, [1.5, 2.5], 9, owner="me"
    )
    await store.create_run(record)
    order = StoredOrder("tb-o-1", 3, 0, Side.SELL, "limit", 101.0, 0.1, OrderStatus.SUBMITTING, 5)
    await store.add_orders([order])
    await store.update_orders([OrderUpdate("tb-o-1", OrderStatus.OPEN, 6, 0.02, "x-1")])
    fill = _fill("t1", 8)
    await store.record_fills([fill], [], [1.5, 2.5], 8)
    await store.trip("max_run_loss", "too much", 10)

    loaded = await store.load_run()
    assert loaded == RunRecord(
        store.run_id,
        client_id,
        "live",
        "binance",
        "BTC/USDT",
        7,
        config,
        [1.5, 2.5],
        8,
        "tripped",
        "too much",
        "me",
    )
    assert await client_runs(pg_sessions, client_id) == [loaded]
    [open_order] = await store.orders(ACTIVE)
    assert open_order == StoredOrder(
        "tb-o-1", 3, 0, Side.SELL, "limit", 101.0, 0.1, OrderStatus.OPEN, 5, 0.02, "x-1"
    )
    assert open_order.side is Side.SELL  # enums rebuilt, not strings
    assert open_order.status is OrderStatus.OPEN
    assert await store.fills() == [fill]
    assert await store.active_trip() == GuardRecord("max_run_loss", "too much", store.run_id, 10)
