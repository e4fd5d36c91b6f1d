"""A run whose entry buy is in doubt places nothing paid from the balances until that buy's
trade is in: the exchange took the market buy (its answer was lost on the way back) and its
trade comes late, as a user stream's event may. Seen in the fault soak: the run's limits were
paid from the quote the buy had already spent, the exchange refused one for funds, and the run
tripped with the buy's fill never recorded.

Naive implementation caught: the book placed right after the market buy, from balances that
do not have its trade yet.
"""

from __future__ import annotations

from typing import Any

from tests.runs.paper_day import paper_day
from tradebot.engine.orders import OrderStatus
from tradebot.runs.launcher import database, runner_settings
from tradebot.runtime.ports import OrderReport, OrderRequest, TradeReport, TransientVenueError
from tradebot.runtime.runner import GridRunner
from tradebot.venues.paper import PaperVenue
from tradebot.venues.replay import replay_ticks


class EntryAnswerLost(PaperVenue):
    """The paper venue, where the first market buy is taken but its answer is lost, and its
    trade is reported only ``late`` calls of ``new_trades`` later (or when asked for). Notes
    the limits sent before the run had that trade."""

    def __init__(self, *args: Any, late: int) -> None:
        super().__init__(*args)
        self.late = late
        self.entry: str | None = None
        self.entry_known = False
        self.held: list[TradeReport] = []
        self.sent_in_doubt: list[str] = []

    async def submit(self, request: OrderRequest) -> OrderReport:
        if self.entry is not None and not self.entry_known:
            self.sent_in_doubt.append(request.client_order_id)
        report = await super().submit(request)
        if request.price is None and self.entry is None:
            self.entry = request.client_order_id
            raise TransientVenueError("read timed out")
        return report

    async def new_trades(self) -> list[TradeReport]:
        trades = await super().new_trades()
        self.held += [t for t in trades if t.client_order_id == self.entry]
        trades = [t for t in trades if t.client_order_id != self.entry]
        if self.held and self.late <= 0:
            trades, self.held, self.entry_known = self.held + trades, [], True
        self.late -= 1
        return trades

    async def trades_for(self, client_order_id: str) -> list[TradeReport]:
        trades = await super().trades_for(client_order_id)
        self.entry_known = self.entry_known or client_order_id == self.entry
        return trades


async def test_a_market_buy_in_doubt_holds_the_book_until_its_trade_is_in(sqlite_url: str):
    day = paper_day("entry-in-doubt")
    venue = EntryAnswerLost(
        day.account(), replay_ticks(day.candles, day.base_ts, start_after=-1), late=3
    )
    async with database(sqlite_url) as sessions:
        run = await day.prepare(sessions)
        runner = GridRunner(
            run.record,
            run.strategy,
            venue,
            run.store,
            runner_settings(day.settings, paper=True),
        )
        outcome = await runner.run()
        orders = await run.store.orders()
        fills = await run.store.fills()

    assert outcome.status == "finished", outcome.reason
    assert venue.entry is not None  # the fault did happen
    assert venue.sent_in_doubt == []
    entries = [o for o in orders if o.line < 0]
    assert [(o.client_order_id, o.status) for o in entries] == [(venue.entry, OrderStatus.FILLED)]
    assert [o for o in orders if o.status is OrderStatus.REJECTED] == []
    assert [f.client_order_id for f in fills if f.line < 0] == [venue.entry]
