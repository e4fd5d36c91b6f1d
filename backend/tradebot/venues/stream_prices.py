"""Prices of one pair from the exchange's ticker stream, REST polls only while it is down.

Binance's own advice (its 429 text) is to use WebSocket streams for live updates instead of
polling: a ticker poll costs weight on the IP's budget for every run, a stream costs nothing.
One ``StreamPrices`` serves a pair to every run of a worker process (``workers.feed``).

The stream is read by a background pump through ccxt's streaming API (``watch_ticker``, see
``stream_pump``). A
stream that says nothing for ``stale_after_s`` (a dead socket that still looks open, or an
exchange that stopped sending) is treated as down: the next price comes from a REST poll, at
most every ``poll_interval_s``, and its sockets are closed so that the pump opens new ones.
The run's staleness guard still holds: a price whose time does not move is stale whatever
path it came by.

The first price is not kept waiting for a stream that may never come (refused, stalled at
subscription): a restarting run's first tick is its recovery. It comes by REST if the stream
has said nothing ``FIRST_WAIT_S`` after the start, or at once if the stream failed to open.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from tradebot.engine.types import MarketRules
from tradebot.observability.logs import get_logger
from tradebot.runtime.ports import Tick, TransientVenueError
from tradebot.venues.ccxt_venue import CcxtVenue
from tradebot.venues.retry import Backoff
from tradebot.venues.stream_pump import RECONNECT, pump
from tradebot.venues.ticks import TickMaker

log = get_logger(__name__)
BACKLOG = 1_000
"""Prices kept for a reader that fell behind; older ones are dropped (a price is news only
until the next one)."""
FIRST_WAIT_S = 1.0
"""How long the first price waits for the stream (Binance's ticker streams push every second)
before it is asked for by REST."""


class StreamPrices:
    """A ``runtime.ports.PriceFeed`` fed by a ticker stream."""

    def __init__(
        self,
        rest: CcxtVenue,
        *,
        stale_after_s: float = 5.0,
        poll_interval_s: float = 2.0,
        reconnect: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        owns_rest: bool = False,
    ) -> None:
        self.rest = rest
        self._owns_rest = owns_rest
        """Close ``rest`` with the stream (else its connection closes it)."""
        """The same exchange over REST: the markets, and the prices while the stream is down."""
        self.exchange: Any = rest.exchange
        self.symbol = rest.symbol
        self.stale_after_s = stale_after_s
        self.poll_interval_s = poll_interval_s
        self.reconnect = reconnect or RECONNECT
        self._clock = clock
        self._ticks = TickMaker()
        self._prices: deque[tuple[int, float]] = deque(maxlen=BACKLOG)
        self._arrived = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self._last_ts = -1
        self._heard_at = clock()
        self._priced = False
        """A price has been handed out (by the stream or by REST)."""
        self._last_poll = float("-inf")
        self._dropped_at = float("-inf")
        self.streamed = 0
        """Prices taken from the stream (figures for tests and benchmarks)."""
        self.polled = 0
        """Prices taken from REST polls while the stream was down."""
        self.reconnects = 0

    async def market_rules(self) -> MarketRules:
        return await self.rest.market_rules()

    async def next_tick(self) -> Tick | None:
        if self._pump is None:
            self._heard_at = self._clock()
            self._pump = asyncio.create_task(self._run_pump())
        if not self._prices:
            await self._wait(self._patience())
        while True:
            if self._prices:
                ts, price = self._prices.popleft()
                self.streamed += 1
                self._priced = True
                return self._ticks.tick(ts, price)
            try:
                tick = await self._poll()
                self._priced = True
                return tick
            except TransientVenueError as exc:
                # No price by REST either (the budget is spent, the network is down): wait
                # for whichever comes first, the stream's next price or the next poll. The
                # runs' staleness guard watches the age of the prices meanwhile.
                log.info("price_poll_failed", pair=self.symbol, error=str(exc))
                await self._wait(self.poll_interval_s)

    async def _wait(self, seconds: float) -> None:
        """Until the stream's next price, or ``seconds``."""
        self._arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._arrived.wait(), max(seconds, 0.0))

    @property
    def down(self) -> bool:
        return self._clock() - self._heard_at >= self.stale_after_s

    def _patience(self) -> float:
        """How long to wait for the stream: until it counts as stale, or, once it does, until
        the next REST poll is due."""
        now = self._clock()
        if not self._priced:
            return min(FIRST_WAIT_S, self.stale_after_s) - (now - self._heard_at)
        if not self.down:
            return self.stale_after_s - (now - self._heard_at)
        return self._last_poll + self.poll_interval_s - now

    async def _poll(self) -> Tick:
        """The stream is quiet for too long: a price by REST, and new sockets for the stream
        (at most once per ``stale_after_s``)."""
        now = self._clock()
        if self.down and now - self._dropped_at >= self.stale_after_s:
            self._dropped_at = now
            await self._drop_sockets()
        self._last_poll = now
        ts, price = await self.rest.ticker()
        self.polled += 1
        self._last_ts = max(self._last_ts, ts)
        return self._ticks.tick(ts, price)

    async def _run_pump(self) -> None:
        limiter = self.rest.limiter
        await pump(
            lambda: self.exchange.watch_ticker(self.symbol),
            self._on_ticker,
            self._on_down,
            self.reconnect,
            None if limiter is None else lambda: limiter.connect(urgent=True),
        )

    def _on_ticker(self, ticker: dict[str, Any]) -> None:
        self._heard_at = self._clock()
        ts = int(ticker.get("timestamp") or time.time() * 1000)
        last = ticker.get("last")
        if last is None or ts < self._last_ts:
            return  # a late or repeated event: prices only move forward in time
        self._last_ts = ts
        self._prices.append((ts, float(last)))
        self._arrived.set()

    def _on_down(self, error: Exception, retry_s: float) -> None:
        self.reconnects += 1
        log.info("price_stream_down", pair=self.symbol, error=str(error), retry_s=retry_s)
        if not self._priced:
            self._arrived.set()  # the first price is asked for by REST now

    async def _drop_sockets(self) -> None:
        """Close the stream's sockets: a stalled one gives no error by itself."""
        clients = list((getattr(self.exchange, "clients", None) or {}).values())
        if clients:
            log.info("price_stream_stalled", pair=self.symbol, after_s=self.stale_after_s)
        for client in clients:
            with contextlib.suppress(Exception):
                await client.close()

    async def close(self) -> None:
        """Stop listening (and close the REST venue when it is ours)."""
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        if self._owns_rest:
            await self.rest.close()
