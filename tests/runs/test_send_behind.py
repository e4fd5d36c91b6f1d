"""A live run decides on its next news while its last orders are still on their way: three days
of trading on the real store, each order on the venue's book at once but its answer held until
the run has taken more ticks (a REST round trip behind a burst of a thousand runs' fills, while
the user stream reports fills at once).

Naive implementations caught: a second order placed on a line whose first is still on its way
(a doubled position); an answer that comes after its order's fill taking the order back to OPEN
(an illegal transition, or an order stored OPEN that has filled); orders in flight asked about
as if in doubt; a rejected order whose run goes on sending; a tick timed as done before its
orders are answered.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Iterator

from tests.runs.paper_day import paper_day
from tradebot.engine.orders import ACTIVE, OrderStatus
from tradebot.runs.launcher import database, runner_settings
from tradebot.runs.store import SqlRunStore
from tradebot.runtime.ports import OrderRejectedError, OrderReport, OrderRequest, Tick, TradeReport
from tradebot.runtime.runner import GridRunner, RunOutcome
from tradebot.venues.matching import MatchingEngine
from tradebot.venues.paper import PaperVenue
from tradebot.venues.replay import replay_ticks

LAG_TICKS = 30
"""Ticks the run takes before the answer to an order it sent behind it comes back (an order
it sends within its tick, as its first book, is answered at once: it takes no tick until)."""
WAIT_S = 5.0
"""How long an answer waits at most for those ticks: only if the run waited for its orders
before taking another tick, which it must not do (counted, and held to none)."""


class SlowAnswers(PaperVenue):
    """Each order rests on the book (and fills) at once; its answer comes back later."""

    def __init__(
        self, account: MatchingEngine, ticks: Iterator[Tick], reject_at: int | None = None
    ) -> None:
        super().__init__(account, ticks)
        self.runner: GridRunner | None = None
        self.reject_at = reject_at
        """The submit (counted from 1) the exchange rejects for funds, after its round trip."""
        self.taken = 0
        self.ended = False
        self.waited_out = 0
        self._moved = asyncio.Condition()
        self.on_the_way = 0
        self.submits = 0
        self.submits_after_rejection = 0
        self.rejected = False
        self.rejected_behind = False
        self.trades = 0
        self.answered_after_fill = 0
        self.doubled_lines: list[int] = []
        self.decisions_with_orders_on_the_way = 0

    async def next_tick(self) -> Tick | None:
        tick = await super().next_tick()
        self.taken += 1
        self.ended = tick is None
        async with self._moved:
            self._moved.notify_all()
        return tick

    async def new_trades(self) -> list[TradeReport]:
        trades = await super().new_trades()
        self.trades += len(trades)
        return trades

    def decided(self) -> None:
        if self.on_the_way:
            self.decisions_with_orders_on_the_way += 1

    async def submit(self, request: OrderRequest) -> OrderReport:
        assert self.runner is not None
        self.submits += 1
        number = self.submits
        if self.rejected:
            self.submits_after_rejection += 1
        lines = Counter(o.line for o in self.runner.orders.active.values() if o.line >= 0)
        self.doubled_lines += [line for line, n in lines.items() if n > 1]
        self.on_the_way += 1
        try:
            rejected = number == self.reject_at
            report = None if rejected else await super().submit(request)
            behind = request.client_order_id in self.runner.sends.on_the_way
            if behind:
                await self._round_trip()
        finally:
            self.on_the_way -= 1
        if report is None:
            self.rejected, self.rejected_behind = True, behind
            raise OrderRejectedError("insufficient balance", insufficient_funds=True)
        order = self.runner.orders.by_id(request.client_order_id)
        if order is None or order.status is not OrderStatus.SUBMITTING:
            self.answered_after_fill += 1  # the stream's fill was booked first
        return report

    async def _round_trip(self) -> None:
        until = self.taken + LAG_TICKS
        async with self._moved:
            try:
                await asyncio.wait_for(
                    self._moved.wait_for(lambda: self.taken >= until or self.ended), WAIT_S
                )
            except TimeoutError:
                self.waited_out += 1


async def _three_days(
    sqlite_url: str, reject_at: int | None = None
) -> tuple[RunOutcome, SlowAnswers, SqlRunStore]:
    day = paper_day("sendbehind", days=3)
    async with database(sqlite_url) as sessions:
        run = await day.prepare(sessions)
        store = SqlRunStore(sessions, "default", "sendbehind")
        venue = SlowAnswers(
            day.account(), replay_ticks(day.candles, day.base_ts, start_after=-1), reject_at
        )
        settings = runner_settings(day.settings, paper=True)
        runner = GridRunner(
            run.record,
            run.strategy,
            venue,
            store,
            dataclasses.replace(settings, write_behind=True, send_behind=True),
            decided=venue.decided,
        )
        venue.runner = runner
        outcome = await runner.run()
        await _stored_as_held(store, runner)
    return outcome, venue, store


async def _stored_as_held(store: SqlRunStore, runner: GridRunner) -> None:
    """The database holds the run as the run holds it: its orders, fills and state."""
    stored = {o.client_order_id: o for o in await store.orders(None)}
    for coid, order in stored.items():
        if order.status in ACTIVE:
            assert coid in runner.orders.active, order
            assert runner.orders.active[coid].status is order.status, order
        else:
            assert coid not in runner.orders.active, order
        if order.status is OrderStatus.FILLED:
            assert order.exchange_order_id, order  # its late answer still brought the id
    assert set(runner.orders.active) <= set(stored)
    row = await store.load_run()
    assert row is not None
    assert row.state == runner.strategy.state.tolist()


async def test_a_run_decides_while_its_orders_are_on_their_way_and_answers_never_go_back(
    sqlite_url: str,
) -> None:
    outcome, venue, store = await _three_days(sqlite_url)

    assert outcome.status == "finished", outcome.reason
    # The days trade, and the run did decide on news while earlier orders were on their way,
    # and booked fills of orders whose answers came later: a test of something.
    assert venue.submits >= 20, venue.submits
    assert venue.decisions_with_orders_on_the_way >= 10, venue.decisions_with_orders_on_the_way
    assert venue.answered_after_fill >= 3, venue.answered_after_fill
    assert venue.waited_out == 0  # answers came by the run's ticks alone: it never waited
    assert venue.doubled_lines == []
    assert len(await store.fills()) == venue.trades  # each fill stored, once


async def test_a_rejection_on_its_way_trips_the_run_and_nothing_more_is_sent(
    sqlite_url: str,
) -> None:
    outcome, venue, _store = await _three_days(sqlite_url, reject_at=20)

    assert outcome.status == "tripped", outcome
    assert outcome.reason is not None
    assert outcome.reason.startswith("insufficient_funds")
    assert venue.rejected_behind  # the run had gone on when the rejection came
    assert venue.submits_after_rejection == 0
