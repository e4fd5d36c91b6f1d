"""A client with verified simulator keys, ready for live runs (plain async helpers)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tools.soak.harness import store_live_client

from tests.conftest import unique_id
from tests.venues.sim_fixtures import KEY, SECRET, control, running_sim
from tradebot.config import Settings, load_settings
from tradebot.engine.types import Fill, MarketRules, Side
from tradebot.runs.live import LiveOptions, run_on_live_data
from tradebot.runtime.runner import RunOutcome
from tradebot.venues.exchange_sim import SimConfig

# Ninety real minutes (2024-12-02 09:20 on) and a tight grid over them: 9 round trips.
WINDOW = (2000, 2090)
GRID: dict[str, object] = {
    "GRID_LOWER": 94_820.0,
    "GRID_UPPER": 95_547.0,
    "GRID_STEPS": 8,
    "GRID_INVESTMENT": 2_000.0,
    "GRID_SPACING": "arithmetic",
    "MAKER_FEE": 0.0005,
    "TAKER_FEE": 0.001,
}
RULES = MarketRules(tick_size=0.01, lot_step=0.00001, min_notional=5.0, min_qty=0.00001)
"""The simulator's default BTC/USDT filters."""


async def live_client(
    sessions: async_sessionmaker[AsyncSession],
    sim_url: str,
    master_key: str,
    *,
    key: str = KEY,
    secret: str = SECRET,
) -> str:
    """A Pro client whose simulator key is stored after the exchange's permission check."""
    client = unique_id("live")
    await store_live_client(sessions, master_key, client, key, secret, sim_url, actor="test")
    return client


def live_settings(client: str, master_key: str, **overrides: object) -> Settings:
    """A live run of ``client`` with guards far away (tests lower the one they trip)."""
    values: dict[str, object] = {
        "CLIENT_ID": client,
        "CLIENT_MASTER_KEY": master_key,
        "PAPER_MODE": False,
        "ORDER_POLL_INTERVAL_MS": 50,
        "ORDER_RATE_INTERVAL_MS": 0,
        "MAX_RUN_LOSS_USD": 1e9,
        "MAX_GLOBAL_DRAWDOWN_USD": 1e9,
        "STALE_TICKER_MS": 10**12,
        "RUN_ID": unique_id("run"),
    }
    return load_settings(**{**values, **overrides})


async def when_walked(url: str, segments: int) -> None:
    """Return once the simulator's market has walked ``segments`` candle segments (or ended)."""
    while True:
        market = (await control(url, "GET", "/_sim/state"))["market"]
        if market["candle"] * 3 + market["segments_walked"] >= segments or market["done"]:
            return
        await asyncio.sleep(0.002)


async def stop_after(url: str, segments: int, stop: asyncio.Event) -> None:
    """Ask a run to stop once the market has walked ``segments`` segments."""
    await when_walked(url, segments)
    stop.set()


async def run_stepped(
    sessions: async_sessionmaker[AsyncSession],
    pg_url: str,
    master_key: str,
    config: SimConfig,
    grid: dict[str, object],
) -> tuple[Settings, RunOutcome, Any]:
    """A live run of a new verified client on the simulator, stepped a segment per poll to
    the end of its candles: its settings, its outcome and the simulator's account after it."""
    async with running_sim(config) as sim:
        client = await live_client(sessions, sim.url, master_key)
        settings = live_settings(client, master_key, **grid)
        outcome = await run_on_live_data(
            settings, LiveOptions(sandbox_url=sim.url, sandbox_step=True), database_url=pg_url
        )
        account = await control(sim.url, "GET", f"/_sim/accounts/{KEY}")
    return settings, outcome, account


class StoredFill(Protocol):
    """A fill as a run stored it (``runtime.store.FillRecord`` or a ``BotFill`` row)."""

    @property
    def ts(self) -> int: ...
    @property
    def side(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def price(self) -> float: ...
    @property
    def qty(self) -> float: ...
    @property
    def fee(self) -> float: ...
    @property
    def fee_currency(self) -> str: ...


def assert_fills_as_charged(
    got: Sequence[StoredFill], want: Sequence[Fill], base: str, quote: str, lot_step: float
) -> None:
    """A live run's fills are the backtest's ``want`` (the spec's fees in quote) as the
    exchange charged them: the same fills at the same instants, lines and prices; each fee
    worth the spec's in quote (to the 8 decimals Binance keeps of it, in the asset charged);
    and each sell as big as the spec's but for what the fees took out of the base before it
    (the grid sells the base it really holds, in whole lots). Where every fee was taken in
    quote nothing was taken, and each quantity is the backtest's exactly."""
    assert [(f.ts, Side(f.side), f.line) for f in got] == [(f.ts, f.side, f.line) for f in want]
    taken = 0.0
    for have, spec in zip(got, want, strict=True):
        assert have.price == pytest.approx(spec.price, rel=1e-9)
        in_base = have.fee_currency == base
        assert have.fee_currency in (base, quote)
        last_decimal = 1e-8 * (have.price if in_base else 1.0)  # of the asset charged
        assert have.fee == pytest.approx(spec.fee * have.qty / spec.qty, abs=last_decimal)
        if Side(have.side) is Side.BUY or taken == 0:
            assert have.qty == pytest.approx(spec.qty, rel=1e-9)
        else:
            assert spec.qty - taken - lot_step <= have.qty <= spec.qty * (1 + 1e-9)
        if in_base:
            taken += have.fee / have.price
