"""Where a worker's shared feeds read prices: a public connection per (exchange, pair).

No keys: a ticker is public. The connection is wired like a run's own (``venues.connection``):
the ticker stream when streams are on (REST polls while it is down), every REST request's
weight from the shared per-IP budget, and a stepped sandbox stepped by the feed itself, one
segment per poll (it holds while any run on it is still deciding: the feed's lockstep).
"""

from __future__ import annotations

from tradebot.config import Settings
from tradebot.engine.types import MarketRules
from tradebot.runtime.ports import Tick
from tradebot.venues.connection import ExchangeAccess, connect
from tradebot.workers.state import WorkerOptions


class PublicPrices:
    """A ``runtime.ports.PriceFeed``: the prices of ``pair``, for every run of the worker."""

    def __init__(self, settings: Settings, options: WorkerOptions, exchange: str, pair: str):
        access = ExchangeAccess(
            exchange, pair, sandbox_url=options.sandbox_url, sandbox_step=options.sandbox_step
        )
        self.connection = connect(settings, access)

    async def market_rules(self) -> MarketRules:
        return await self.connection.prices.market_rules()

    async def next_tick(self) -> Tick | None:
        return await self.connection.prices.next_tick()

    async def close(self) -> None:
        await self.connection.close()
