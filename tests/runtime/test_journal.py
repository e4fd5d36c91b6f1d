"""A live run's journal writes what is safe to lose behind the run, on the real store: the run
does not wait for its orders' acknowledgements, and no later write is overtaken by them.

Naive implementations caught: the acknowledgement awaited on the run's path (``acknowledged``
would not return while the database holds it); a later write sent beside the write behind
instead of after it (the acknowledgement, committed last, would put a filled order back to
OPEN); a write behind that fails and loses what it held (the run's next write must carry it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.clients.factories import make_client
from tests.conftest import unique_id
from tradebot.engine.orders import OrderStatus
from tradebot.engine.types import Side
from tradebot.runs.store import SqlRunStore
from tradebot.runtime.journal import Journal
from tradebot.runtime.store import FillRecord, OrderUpdate, RunRecord, StoredOrder


class HeldStore(SqlRunStore):
    """Its next ``record_fills`` waits at ``gate`` (a database slow to answer), or fails."""

    gate: asyncio.Event | None = None
    fail: bool = False

    async def record_fills(
        self,
        fills: list[FillRecord],
        updates: list[OrderUpdate],
        state: list[float],
        clock_ts: int,
        orders: Sequence[StoredOrder] = (),
    ) -> list[FillRecord]:
        gate, self.gate = self.gate, None
        if gate is not None:
            await gate.wait()
        if self.fail:
            self.fail = False
            raise ConnectionError("the database went away")
        return await super().record_fills(fills, updates, state, clock_ts, orders)


def _order(coid: str) -> StoredOrder:
    return StoredOrder(coid, 2, 0, Side.BUY, "limit", 100.0, 0.5, OrderStatus.SUBMITTING, 1)


def _ids() -> tuple[str, str]:
    """Client order ids are unique across the shared test database."""
    return unique_id("o"), unique_id("o")


async def _journal(sessions: async_sessionmaker[AsyncSession]) -> tuple[HeldStore, Journal]:
    client_id = await make_client(sessions)
    store = HeldStore(sessions, client_id, unique_id("run"))
    record = RunRecord(store.run_id, client_id, "live", "binance", "BTC/USDT", 0)
    await store.create_run(record)
    state = [1.0, 2.0]
    return store, Journal(store, lambda: (state, 7), behind=True)


async def _status(store: SqlRunStore, coid: str) -> tuple[OrderStatus, str | None]:
    [order] = [o for o in await store.orders() if o.client_order_id == coid]
    return order.status, order.exchange_order_id


async def test_an_acknowledgement_is_written_behind_the_run_and_before_its_next_write(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    store, journal = await _journal(pg_sessions)
    one, _ = _ids()
    await journal.add_orders([_order(one)])
    store.gate = gate = asyncio.Event()

    ack = OrderUpdate(one, OrderStatus.OPEN, 2, 0.0, "x-1")
    await asyncio.wait_for(journal.acknowledged([ack]), 1.0)  # not held by the database
    assert await _status(store, one) == (OrderStatus.SUBMITTING, None)

    # The order fills before the acknowledgement is stored: its fill must land after it.
    filled = OrderUpdate(one, OrderStatus.FILLED, 3, 0.5)
    later = asyncio.create_task(journal.update_orders([filled]))
    await asyncio.sleep(0.2)
    assert not later.done()  # it waits for the write behind, not beside it
    gate.set()
    await asyncio.wait_for(later, 5.0)
    await journal.written()
    assert await _status(store, one) == (OrderStatus.FILLED, "x-1")


async def test_a_write_behind_that_fails_leaves_its_rows_to_the_run_s_next_write(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    store, journal = await _journal(pg_sessions)
    one, two = _ids()
    await journal.add_orders([_order(one)])
    store.fail = True

    await journal.acknowledged([OrderUpdate(one, OrderStatus.OPEN, 2, 0.0, "x-1")])
    await journal.written()
    assert journal.held  # the failed write kept the acknowledgement
    assert await _status(store, one) == (OrderStatus.SUBMITTING, None)

    await journal.add_orders([_order(two)])  # the run's next write carries it
    assert not journal.held
    assert await _status(store, one) == (OrderStatus.OPEN, "x-1")
    assert await _status(store, two) == (OrderStatus.SUBMITTING, None)


async def test_without_write_behind_an_acknowledgement_is_stored_before_it_returns(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    store, _ = await _journal(pg_sessions)
    journal = Journal(store, lambda: ([1.0], 7))  # a paper run: in step with its fills
    one, _ = _ids()
    await journal.add_orders([_order(one)])
    await journal.acknowledged([OrderUpdate(one, OrderStatus.OPEN, 2, 0.0, "x-1")])
    assert await _status(store, one) == (OrderStatus.OPEN, "x-1")
