"""Helpers to run the exchange simulator and point the real ccxt client at it (no fixtures
hidden in a conftest: import what you need).

    async with running_sim(sim_config()) as sim:           # in the test's event loop
        async with ccxt_client(sim.url) as exchange:         # ccxt binance, keys of ACCOUNT
            await exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 90000)
            await control(sim.url, "POST", "/_sim/advance", {"segments": 3})
        sim.sim.accounts[KEY].engine.trades                  # or read state directly

    async with ccxt_client(sim.url, streams=True) as exchange:  # ccxt.pro: watch_* too
        pending = asyncio.create_task(exchange.watch_trades("BTC/USDT"))
        await subscribed(sim, "btcusdt@trade")               # before the market moves

Synchronous tests (e.g. a CLI that runs its own event loop) use ``SimThread(config)``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from functools import cache
from typing import Any

import aiohttp

from tradebot.candles.io import bundled, load_candles
from tradebot.candles.model import Candles
from tradebot.venues.ccxt_factory import make_exchange
from tradebot.venues.exchange_sim import (
    AccountConfig,
    LimitsConfig,
    MarketConfig,
    RunningSimulator,
    SimConfig,
    SimThread,
    serve,
)

__all__ = ["SimThread"]

KEY, SECRET = "sim-test-key", "sim-test-secret"  # play-money keys of the simulator only
OTHER_KEY, OTHER_SECRET = "sim-other-key", "sim-other-secret"


@cache
def demo_week() -> Candles:
    """The bundled real BTC/USDT 1m week (10,080 candles)."""
    return load_candles(bundled())


def account(
    key: str = KEY,
    secret: str = SECRET,
    *,
    usdt: float = 100_000.0,
    btc: float = 1.0,
    **permissions: bool,
) -> AccountConfig:
    return AccountConfig(key, secret, {"USDT": usdt, "BTC": btc}, dict(permissions))


def sim_config(
    candles: Candles | None = None,
    accounts: list[AccountConfig] | None = None,
    *,
    start_index: int = 0,
    market: MarketConfig | None = None,
    limits: LimitsConfig | None = None,
    speed: float = 0.0,
    fill_share: float = 0.0,
) -> SimConfig:
    """A stepped simulator (speed 0) over ``candles`` (default: the first day of the demo
    week) with the default account."""
    return SimConfig(
        candles=candles if candles is not None else demo_week().slice(0, 1440),
        accounts=[account()] if accounts is None else accounts,
        market=market or MarketConfig(),
        limits=limits or LimitsConfig(),
        start_index=start_index,
        speed=speed,
        fill_share=fill_share,
    )


def exact_market(maker_fee: float = 0.001, taker_fee: float = 0.001) -> MarketConfig:
    """Filters loose enough for hand-built prices and quantities (tick 0.01, step 0.001)."""
    return MarketConfig(
        step_size=Decimal("0.001"),
        min_qty=Decimal("0.001"),
        min_notional=Decimal("1"),
        maker_fee=maker_fee,
        taker_fee=taker_fee,
    )


@asynccontextmanager
async def running_sim(config: SimConfig | None = None) -> AsyncIterator[RunningSimulator]:
    """The simulator on a free loopback port of the current event loop."""
    async with serve(config or sim_config()) as running:
        yield running


@asynccontextmanager
async def ccxt_client(
    url: str,
    api_key: str | None = KEY,
    secret: str | None = SECRET,
    *,
    timeout_ms: int = 5_000,
    rate_limit: bool = False,
    options: dict[str, Any] | None = None,
    streams: bool = False,
) -> AsyncIterator[Any]:
    """ccxt's async binance class pointed at the simulator (closed afterwards); with
    ``streams`` the ccxt.pro class, its WebSockets on the simulator too."""
    exchange = make_exchange(
        "binance",
        api_key=api_key,
        secret=secret,
        sandbox_url=url,
        timeout_ms=timeout_ms,
        rate_limit=rate_limit,
        options=options,
        streams=streams,
    )
    try:
        yield exchange
    finally:
        await exchange.close()


async def control(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call a ``/_sim`` control endpoint; returns the JSON answer (raises on 4xx)."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url + path, json=body) as response,
    ):
        data = await response.json()
        if response.status >= 400:
            raise AssertionError(f"{method} {path}: {response.status} {data}")
        return data


async def until(predicate: Callable[[], bool], timeout_s: float = 3.0) -> None:
    """Wait until ``predicate()`` holds (polled every 10 ms), or fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {predicate}")
        await asyncio.sleep(0.01)


async def subscribed(
    running: RunningSimulator, stream: str | None = None, api_key: str | None = None
) -> None:
    """Wait until the simulator has a socket on ``stream`` (a market stream name) or on
    ``api_key``'s user-data stream: a ``watch_*`` call has subscribed."""
    hub = running.sim.streams
    if stream is not None:
        await until(lambda: hub.listening(stream))
    if api_key is not None:
        await until(lambda: hub.listening_user(api_key))
