"""Where a worker's shared feeds read prices: a public ``CcxtVenue`` per (exchange, pair).

No keys: a ticker is public. On a real exchange the polls take their weight from the shared
per-IP rate limiter like every other request; a stepped sandbox is stepped by the feed itself,
one segment per poll (it holds while any run on it is still deciding: the feed's lockstep).
"""

from __future__ import annotations

from tradebot.config import Settings
from tradebot.engine.types import MarketRules
from tradebot.runtime.ports import Tick
from tradebot.venues.ccxt_factory import make_exchange
from tradebot.venues.ccxt_venue import CcxtVenue
from tradebot.venues.rate_limit import RateLimiter
from tradebot.venues.sandbox_clock import SandboxClock
from tradebot.workers.state import WorkerOptions


class PolledTicker:
    """A ``feed.PriceSource``: the ticker of ``pair`` polled through ccxt."""

    def __init__(self, settings: Settings, options: WorkerOptions, exchange: str, pair: str):
        sandbox = options.sandbox_url
        stepped = options.sandbox_step and sandbox is not None
        self.limiter = None if sandbox else RateLimiter.from_settings(settings, exchange)
        self.venue = CcxtVenue(
            make_exchange(exchange, sandbox_url=sandbox, rate_limit=not stepped),
            pair,
            poll_interval_ms=0 if stepped else settings.ORDER_POLL_INTERVAL_MS,
            limiter=self.limiter,
            account=None,
            before_poll=SandboxClock(sandbox).step if stepped and sandbox else None,
        )

    async def market_rules(self) -> MarketRules:
        return await self.venue.market_rules()

    async def next_tick(self) -> Tick | None:
        return await self.venue.next_tick()

    async def close(self) -> None:
        await self.venue.close()
        if self.limiter is not None:
            await self.limiter.close()
