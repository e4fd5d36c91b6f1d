"""The paper venue: the simulated matching engine fed by ticks (a candle replay or live prices).

No keys, no network for orders: fills are simulated exactly as the exchange simulator and the
backtest's spec define, and balances are enforced as an exchange would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Iterator

from tradebot.engine.types import MarketRules
from tradebot.runtime.ports import (
    OrderRejectedError,
    OrderReport,
    OrderRequest,
    Tick,
    TradeReport,
    VenueError,
    VenueOrderStatus,
)
from tradebot.venues.matching import (
    MatchingEngine,
    OrderRejected,
    RejectReason,
    SimOrder,
    SimStatus,
    SimTrade,
)

_STATUS = {
    SimStatus.NEW: VenueOrderStatus.OPEN,
    SimStatus.FILLED: VenueOrderStatus.FILLED,
    SimStatus.CANCELED: VenueOrderStatus.CANCELLED,
    SimStatus.REJECTED: VenueOrderStatus.REJECTED,
}


def _report(order: SimOrder) -> OrderReport:
    return OrderReport(
        order.client_order_id,
        str(order.order_id),
        _STATUS[order.status],
        order.filled_qty,
        order.updated_ts,
    )


def _trade(trade: SimTrade, quote: str) -> TradeReport:
    # The paper engine fills an order whole, once: its client order id is a trade id that
    # stays unique when a resumed replay rebuilds the engine and its counters start again.
    return TradeReport(
        trade.client_order_id,
        trade.client_order_id,
        trade.side,
        trade.price,
        trade.qty,
        trade.fee,
        quote,
        trade.ts,
    )


class PaperVenue:
    """Implements ``runtime.ports.Venue`` over a ``MatchingEngine``."""

    def __init__(
        self,
        engine: MatchingEngine,
        ticks: Iterator[Tick] | AsyncIterator[Tick],
        rules: MarketRules | None = None,
        quote_currency: str = "USDT",
    ) -> None:
        self.engine = engine
        self._ticks = ticks
        self._rules = rules or MarketRules()
        self._quote = quote_currency
        self.on_error: Callable[[VenueError], None] | None = None  # a paper venue never fails
        self._delivered = 0
        self._now = 0
        self._closes: list[float] = []
        self._last_close_ts = 0
        self._timeframe_ms = 60_000

    async def market_rules(self) -> MarketRules:
        return self._rules

    def fill_grace(self) -> int | None:
        return None  # its fills are found at the ticks that cross its orders

    async def next_tick(self) -> Tick | None:
        if isinstance(self._ticks, Iterator):
            tick = next(self._ticks, None)
        else:
            tick = await anext(self._ticks, None)
        if tick is None:
            return None
        if tick.closes_candle:
            if self._closes:
                self._timeframe_ms = max(1, tick.ts - self._last_close_ts)
            self._closes.append(tick.price)
            self._last_close_ts = tick.ts
        self._now = tick.ts
        if tick.direction is None:
            self.engine.jump(tick.price)
        else:
            self.engine.move(tick.direction, tick.price, tick.ts)
        return tick

    async def submit(self, request: OrderRequest) -> OrderReport:
        try:
            if request.price is None:
                order = self.engine.place_market(
                    request.client_order_id, request.side, request.qty, self._now
                )
            else:
                order = self.engine.place_limit(
                    request.client_order_id, request.side, request.price, request.qty, self._now
                )
        except OrderRejected as exc:
            raise OrderRejectedError(
                str(exc), insufficient_funds=exc.reason is RejectReason.INSUFFICIENT_FUNDS
            ) from None
        return _report(order)

    async def cancel(self, client_order_id: str) -> OrderReport | None:
        order = self.engine.cancel(client_order_id, self._now)
        return None if order is None else _report(order)

    async def query(self, client_order_id: str) -> OrderReport | None:
        order = self.engine.find(client_order_id)
        return None if order is None else _report(order)

    async def open_among(self, client_order_ids: Collection[str]) -> dict[str, OrderReport]:
        wanted = set(client_order_ids)
        return {
            o.client_order_id: _report(o)
            for o in self.engine.open_orders()
            if o.client_order_id in wanted
        }

    async def reconciled_trades(self) -> list[TradeReport]:
        return []  # its fills are its own: nothing to miss

    async def new_trades(self) -> list[TradeReport]:
        trades = self.engine.trades[self._delivered :]
        self._delivered = len(self.engine.trades)
        return [_trade(t, self._quote) for t in trades]

    async def trades_for(self, client_order_id: str) -> list[TradeReport]:
        return [
            _trade(t, self._quote)
            for t in self.engine.trades
            if t.client_order_id == client_order_id
        ]

    async def recent_closes(self, count: int) -> tuple[list[float], int]:
        return self._closes[-count:], self._timeframe_ms

    async def close(self) -> None:
        return None
