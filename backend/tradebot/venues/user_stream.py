"""One account's order updates and trades on one pair, from the exchange's user-data stream.

With the stream up, a run learns of its fills without asking: no open-orders poll (weight 6 on
Binance) every couple of seconds. Streams lose things, so the venue that reads this one still
asks by REST when it cannot be sure (``CcxtVenue``):

- after a gap: before the first subscription is known to be live, after any error (ccxt
  reconnects on the next watch), the stream may have missed events. The gap is closed only by a
  full REST reconciliation that started ``settle_s`` after the (re)subscription;
- when the market says a fill is missing: a resting order whose price the market has traded
  through must have filled (``Crossings``); no trade on the stream ``grace`` later means a
  stalled stream (a socket can stay open and say nothing), and that order is asked for;
- every ``reconcile_every`` anyway, as a last net.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from tradebot.engine.types import Side
from tradebot.observability.logs import get_logger
from tradebot.venues.retry import Backoff
from tradebot.venues.stream_pump import RECONNECT, pump

log = get_logger(__name__)
Row = dict[str, Any]
BUFFER = 10_000
"""Events held for a reader that does not come (a bound, not a working size)."""


class UserStream:
    def __init__(
        self,
        exchange: Any,
        symbol: str,
        *,
        settle_s: float = 1.0,
        reconnect: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.exchange = exchange
        self.symbol = symbol
        self.settle_s = settle_s
        self.reconnect = reconnect or RECONNECT
        self._clock = clock
        self._trades: deque[Row] = deque(maxlen=BUFFER)
        self._orders: deque[Row] = deque(maxlen=BUFFER)
        self._subscribed_at = clock()
        self._gap = True
        self._pumps: list[asyncio.Task[None]] = []
        self.errors = 0
        self.on_news: Callable[[], None] = lambda: None
        """Called when events arrive (the run may be asleep on a shared feed: wake it)."""

    def start(self) -> None:
        if not self._pumps:
            self._subscribed_at = self._clock()
            self._pumps = [
                asyncio.create_task(self._pump(self.exchange.watch_my_trades, self._trades)),
                asyncio.create_task(self._pump(self.exchange.watch_orders, self._orders)),
            ]

    @property
    def gap(self) -> bool:
        """Events may have been missed since the last full reconciliation."""
        return self._gap

    def reconciled(self, started_at: float) -> None:
        """A full REST reconciliation that started at ``started_at`` is done: it covers
        whatever the stream missed before, once the stream was surely listening by then."""
        if started_at >= self._subscribed_at + self.settle_s:
            self._gap = False

    def take(self) -> tuple[list[Row], list[Row]]:
        """Trades and order updates received since the last call, in arrival order."""
        trades, orders = list(self._trades), list(self._orders)
        self._trades.clear()
        self._orders.clear()
        return trades, orders

    async def _pump(self, watch: Callable[[str], Awaitable[list[Row]]], into: deque[Row]) -> None:
        def arrived(rows: list[Row]) -> None:
            into.extend(rows)
            self.on_news()

        await pump(lambda: watch(self.symbol), arrived, self._on_down, self.reconnect)

    def _on_down(self, error: Exception, retry_s: float) -> None:
        self.errors += 1
        self._gap = True
        self._subscribed_at = self._clock() + retry_s  # the next watch subscribes again
        self.on_news()  # a gap to reconcile
        log.info("user_stream_down", pair=self.symbol, error=str(error), retry_s=retry_s)

    async def close(self) -> None:
        for task in self._pumps:
            task.cancel()
        for task in self._pumps:
            with contextlib.suppress(asyncio.CancelledError):
                await task


class Crossings:
    """Our resting limit orders, and since when the market has traded through each one's
    price (it must have filled by then: a trade below a resting buy cannot happen before the
    buy is taken)."""

    def __init__(self) -> None:
        self._orders: dict[str, tuple[Side, float]] = {}
        self._crossed: dict[str, int] = {}
        self._band: tuple[float, float] | None = None
        """The highest buy and the lowest sell: a price between them crosses nothing."""

    def rest(self, client_order_id: str, side: Side, price: float) -> None:
        self._orders[client_order_id] = (side, price)
        self._band = None

    def forget(self, client_order_id: str) -> None:
        if self._orders.pop(client_order_id, None) is not None:
            self._band = None
        self._crossed.pop(client_order_id, None)

    def see(self, price: float, now_ms: int) -> None:
        if self._band is None:
            buys = [p for side, p in self._orders.values() if side is Side.BUY]
            sells = [p for side, p in self._orders.values() if side is Side.SELL]
            self._band = (max(buys, default=float("-inf")), min(sells, default=float("inf")))
        if self._band[0] <= price <= self._band[1]:
            return  # the usual tick: nothing is crossed, nothing to look at
        for coid, (side, limit) in self._orders.items():
            through = price < limit if side is Side.BUY else price > limit
            if through:
                self._crossed.setdefault(coid, now_ms)

    def overdue(self, now_ms: int, grace_ms: int) -> list[str]:
        """Orders traded through more than ``grace_ms`` ago; each is reported once (a later
        price through it reports it again)."""
        due = [c for c, at in self._crossed.items() if now_ms - at >= grace_ms]
        for coid in due:
            del self._crossed[coid]
        return due
