"""A read the exchange holds is sent again beside it: a restart's book read (the open orders,
an order's state, its trades) costs the hedge delay, not the request's whole timeout. Real ccxt
through the production wiring (``connect``: the shared limiter) against the simulator, whose
"timeout" fault holds one answer past the client's timeout."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tests.conftest import unique_id
from tests.venues.sim_fixtures import KEY, SECRET, control, running_sim, sim_config
from tradebot.config import load_settings
from tradebot.engine.types import Side
from tradebot.runtime.ports import OrderRequest
from tradebot.venues.ccxt_venue import CcxtVenue
from tradebot.venues.connection import ExchangeAccess, connect

TIMEOUT_MS = 4_000
HEDGE_MS = 200


@asynccontextmanager
async def venue_on(url: str) -> AsyncIterator[CcxtVenue]:
    settings = load_settings(
        EGRESS_IP=unique_id("ip"),
        EXCHANGE_TIMEOUT_MS=TIMEOUT_MS,
        EXCHANGE_HEDGE_AFTER_MS=HEDGE_MS,
    )
    access = ExchangeAccess(
        "binance", "BTC/USDT", account="client-a", api_key=KEY, secret=SECRET, sandbox_url=url
    )
    connection = connect(settings, access)
    try:
        yield connection.venue
    finally:
        await connection.close()


async def _hold_next(url: str, path: str) -> None:
    rule = {"kind": "timeout", "phase": "before", "hold_s": 30, "path": path, "method": "GET"}
    await control(url, "POST", "/_sim/faults", {"rules": [rule]})


def _sent(sim: Any, path: str) -> int:
    return int(sim.sim.requests[f"GET {path}"])


async def _resting_buy(venue: CcxtVenue) -> str:
    await venue.market_rules()
    __, price = await venue.ticker()
    coid = unique_id("buy")
    await venue.submit(OrderRequest(coid, Side.BUY, 0.001, round(price * 0.9, 2)))
    return coid


async def test_held_reads_of_a_restart_are_answered_by_their_copies():
    async with running_sim(sim_config()) as sim, venue_on(sim.url) as venue:
        coid = await _resting_buy(venue)
        for path, read in (
            ("/api/v3/openOrders", lambda: venue.open_among([coid])),
            ("/api/v3/order", lambda: venue.query(coid)),
        ):
            before = _sent(sim, path)
            await _hold_next(sim.url, path)
            started = time.monotonic()
            answer = await read()
            took = time.monotonic() - started
            assert answer, path  # the order, from the copy
            assert took < TIMEOUT_MS / 2000, (path, took)  # not the held request's timeout
            assert _sent(sim, path) - before == 2  # the held one and its copy
        limits = (await control(sim.url, "GET", "/_sim/state"))["limits"]
        assert limits["answered_429"] == 0


async def test_a_read_answered_in_time_is_sent_once():
    async with running_sim(sim_config()) as sim, venue_on(sim.url) as venue:
        coid = await _resting_buy(venue)
        before = _sent(sim, "/api/v3/order")
        assert await venue.query(coid) is not None
        assert _sent(sim, "/api/v3/order") - before == 1
