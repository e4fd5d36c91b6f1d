"""The process loads an exchange's markets once: every other connection takes a copy."""

from __future__ import annotations

import asyncio

from tests.conftest import unique_id
from tests.venues.sim_fixtures import KEY, SECRET, running_sim, sim_config
from tradebot.config import load_settings
from tradebot.engine.types import Side
from tradebot.runtime.ports import OrderRequest, VenueOrderStatus
from tradebot.venues.connection import ExchangeAccess, connect
from tradebot.venues.markets import MARKETS

EXCHANGE_INFO = "GET /api/v3/exchangeInfo"


async def test_many_connections_starting_together_load_the_markets_once() -> None:
    settings = load_settings(EGRESS_IP=unique_id("ip"))
    async with running_sim(sim_config()) as sim:
        accesses = [
            ExchangeAccess("binance", "BTC/USDT", account=f"c{n}", api_key=KEY, secret=SECRET,
                           sandbox_url=sim.url)
            for n in range(5)
        ]  # fmt: skip
        connections = [connect(settings, access) for access in accesses]
        try:
            loads = MARKETS.loads
            rules = await asyncio.gather(*(c.venue.market_rules() for c in connections))
            assert sim.sim.requests[EXCHANGE_INFO] == 1
            assert MARKETS.loads == loads + 1
            assert len(set(rules)) == 1
            # a connection with copied markets trades as one that loaded them
            venue = connections[-1].venue
            __, price = await venue.ticker()
            request = OrderRequest(unique_id("o"), Side.BUY, 0.001, round(price * 0.9, 2))
            report = await venue.submit(request)
            assert report.status is VenueOrderStatus.OPEN
        finally:
            for conn in connections:
                await conn.close()
