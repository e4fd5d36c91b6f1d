"""A run decides on a fill before it writes anything, and the fill goes to the database in the
same transaction as the orders it calls for, before they leave: a day of paper trading on the
real store, every write and every request watched.

Naive implementations caught: the fill written in a transaction of its own before the decision
(the decision then waits for the database, and the orders for a second transaction); a fill
held and never written when no order follows it (the run's end, a fill that only completes a
part); state written without the fills it includes (a restart would book them twice).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.runs.paper_day import paper_day
from tradebot.runs.launcher import database, runner_settings
from tradebot.runs.store import SqlRunStore
from tradebot.runtime.ports import OrderReport, OrderRequest, Tick, TradeReport
from tradebot.runtime.runner import GridRunner
from tradebot.runtime.store import FillRecord, OrderUpdate, StoredOrder
from tradebot.venues.matching import MatchingEngine
from tradebot.venues.paper import PaperVenue
from tradebot.venues.replay import replay_ticks


@dataclass
class Events:
    """What happened, in order: ("trades", n), ("decided",), ("write", what, fills, orders),
    ("submit", stored state equals the run's, stored fills, fills reported so far)."""

    log: list[tuple[object, ...]] = field(default_factory=list)
    reported: int = 0

    def after(self, kind: str) -> Iterator[list[tuple[object, ...]]]:
        """Each run of events from one of ``kind`` to the next event of that kind."""
        starts = [i for i, e in enumerate(self.log) if e[0] == kind] + [len(self.log)]
        for start, end in itertools.pairwise(starts):
            yield self.log[start:end]


class WatchedStore(SqlRunStore):
    events: Events

    async def record_fills(
        self,
        fills: list[FillRecord],
        updates: list[OrderUpdate],
        state: list[float],
        clock_ts: int,
        orders: Sequence[StoredOrder] = (),
    ) -> list[FillRecord]:
        self.events.log.append(("write", "fills", len(fills), len(orders)))
        return await super().record_fills(fills, updates, state, clock_ts, orders)

    async def add_orders(self, orders: list[StoredOrder]) -> None:
        self.events.log.append(("write", "orders", 0, len(orders)))
        await super().add_orders(orders)

    async def update_orders(self, updates: list[OrderUpdate]) -> None:
        self.events.log.append(("write", "updates", 0, 0))
        await super().update_orders(updates)

    async def save_state(self, state: list[float], clock_ts: int) -> None:
        self.events.log.append(("write", "state", 0, 0))
        await super().save_state(state, clock_ts)


class WatchedVenue(PaperVenue):
    def __init__(self, account: MatchingEngine, ticks: Iterator[Tick], store: WatchedStore) -> None:
        super().__init__(account, ticks)
        self.store = store
        self.runner: GridRunner | None = None

    async def new_trades(self) -> list[TradeReport]:
        trades = await super().new_trades()
        if trades:
            self.store.events.reported += len(trades)
            self.store.events.log.append(("trades", len(trades)))
        return trades

    async def submit(self, request: OrderRequest) -> OrderReport:
        assert self.runner is not None
        stored = await self.store.load_run()
        assert stored is not None
        same = stored.state == self.runner.strategy.state.tolist()
        fills = len(await self.store.fills())
        self.store.events.log.append(("submit", same, fills, self.store.events.reported))
        return await super().submit(request)


async def _watched_day(sessions: async_sessionmaker[AsyncSession]) -> tuple[Events, GridRunner]:
    day = paper_day("journal", days=3)
    run = await day.prepare(sessions)
    store = WatchedStore(sessions, "default", "journal")
    store.events = events = Events()
    venue = WatchedVenue(
        day.account(), replay_ticks(day.candles, day.base_ts, start_after=-1), store
    )
    runner = GridRunner(
        run.record,
        run.strategy,
        venue,
        store,
        runner_settings(day.settings, paper=True),
        decided=lambda: events.log.append(("decided",)),
    )
    venue.runner = runner
    outcome = await runner.run()
    assert outcome.status == "finished", outcome.reason
    return events, runner


async def test_a_fill_is_decided_on_first_and_written_with_its_orders_before_they_leave(
    sqlite_url: str,
) -> None:
    async with database(sqlite_url) as sessions:
        events, runner = await _watched_day(sessions)
        stored_fills = await runner.store.fills()
        stored = await runner.store.load_run()

    submits = [e for e in events.log if e[0] == "submit"]
    fill_ticks = list(events.after("trades"))
    assert len(fill_ticks) >= 10, len(fill_ticks)  # the days trade: a test of something
    # Every request leaves with the database holding the run as the run holds it: each fill
    # reported before it, and the state after them.
    assert submits
    assert all(same for _, same, _, _ in submits), submits
    assert all(stored_n == reported for _, _, stored_n, reported in submits), submits
    for tick in fill_ticks[1:]:  # the first is the entry: its limits wait for its trade
        writes = [e for e in tick if e[0] == "write"]
        first_write = tick.index(writes[0])
        # Decided on before anything is written, then one transaction carries the fill and,
        # when the fill calls for orders, those orders too.
        assert ("decided",) in tick[:first_write], tick
        assert writes[0][1] == "fills", tick
        assert writes[0][2] > 0, tick
        if any(e[0] == "submit" for e in tick):
            sent = tick.index(next(e for e in tick if e[0] == "submit"))
            assert [e for e in tick[:sent] if e[0] == "write"] == [writes[0]], tick
            assert writes[0][3] > 0, tick
    # Nothing held is lost at the end: every fill reported is stored, with the final state.
    assert len(stored_fills) == events.reported
    assert stored is not None
    assert stored.state == runner.strategy.state.tolist()
