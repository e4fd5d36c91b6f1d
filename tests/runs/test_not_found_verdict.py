"""An order in doubt is taken as never placed only when the venue said "not found" for the
whole grace window: a slow read after its "not found" must not age that answer. Seen in the
fault soak: a sell whose answer was garbled was asked about during the exchange's visibility
lag ("not found"), and the read of its trades that followed waited out two 429s (4 s); the run
measured the "not found" at the end of that wait, past the 4 s grace, took the sell as never
placed and placed a second sell on its line (the exchange had both: a duplicate order, then a
sell refused for funds, which tripped the run).

Naive implementation caught: the clock read for the verdict after the trade read, not when the
venue answered.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from tests.runs.paper_day import paper_day
from tradebot.engine.orders import OrderStatus
from tradebot.runs.launcher import database, runner_settings
from tradebot.runtime.ports import OrderReport, OrderRequest, Tick, TradeReport, TransientVenueError
from tradebot.runtime.runner import GridRunner
from tradebot.venues.matching import MatchingEngine
from tradebot.venues.paper import PaperVenue
from tradebot.venues.replay import replay_ticks

GRACE_MS = 4_000
TICK_MS = 100
"""Our clock moves this much between two ticks."""
HELD_MS = 4_000
"""A read held by the exchange's 429s (two of 2 s each)."""


class Clock:
    def __init__(self) -> None:
        self.ms = 1_000_000

    def __call__(self) -> int:
        return self.ms

    def ticking(self, ticks: Iterator[Tick]) -> Iterator[Tick]:
        for tick in ticks:
            self.ms += TICK_MS
            yield tick


class LaggingExchange(PaperVenue):
    """The paper venue as an exchange under load: the first limit sell is taken but its answer
    is lost, the exchange does not show it for its first two queries (a visibility lag), and
    the second read of its trades is held by 429s while our clock runs on."""

    def __init__(self, engine: MatchingEngine, ticks: Iterator[Tick], clock: Clock) -> None:
        super().__init__(engine, ticks)
        self.clock = clock
        self.lost: str | None = None
        self.hidden_answers = 2
        self.trade_reads = 0

    async def submit(self, request: OrderRequest) -> OrderReport:
        report = await super().submit(request)
        if self.lost is None and request.price is not None and request.side.value == "sell":
            self.lost = request.client_order_id
            raise TransientVenueError("answer garbled: not JSON")
        return report

    async def query(self, client_order_id: str) -> OrderReport | None:
        if client_order_id == self.lost and self.hidden_answers > 0:
            self.hidden_answers -= 1
            return None
        return await super().query(client_order_id)

    async def trades_for(self, client_order_id: str) -> list[TradeReport]:
        if client_order_id == self.lost:
            self.trade_reads += 1
            if self.trade_reads == 2:
                self.clock.ms += HELD_MS
        return await super().trades_for(client_order_id)


async def test_a_not_found_answer_is_aged_from_when_the_venue_gave_it(sqlite_url: str):
    day = paper_day("not-found-verdict")
    clock = Clock()
    ticks = clock.ticking(replay_ticks(day.candles, day.base_ts, start_after=-1))
    venue = LaggingExchange(day.account(), ticks, clock)
    settings = runner_settings(day.settings, paper=True)
    settings = dataclasses.replace(
        settings, orders=dataclasses.replace(settings.orders, not_found_grace_ms=GRACE_MS)
    )
    async with database(sqlite_url) as sessions:
        run = await day.prepare(sessions)
        runner = GridRunner(run.record, run.strategy, venue, run.store, settings, clock)
        outcome = await runner.run()
        orders = await run.store.orders()

    # The faults did happen: the sell's answer lost, two "not found", a held trade read.
    assert venue.lost is not None
    assert venue.hidden_answers == 0
    assert venue.trade_reads >= 2
    assert outcome.status == "finished", outcome.reason
    assert [o.client_order_id for o in orders if o.status is OrderStatus.REJECTED] == []
    lost = next(o for o in orders if o.client_order_id == venue.lost)
    assert lost.status in (OrderStatus.OPEN, OrderStatus.FILLED)
