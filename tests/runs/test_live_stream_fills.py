"""Late and partial fills through the run loop, by the user-data stream (issue 21, item 5).

A live run trades on the simulator with its prices and fills by stream (not sandbox-stepped:
the test walks the paused market itself, a few segments at a time), on an exchange that fills
resting orders in parts. A fault delivers the account's user events of every other stretch of
the market late, so a fill that happened earlier reaches the run after a newer one: the runner's
late-fill branch (``Strategy.on_fill(late=True)``) runs. Whatever order they came in, the run
must hold each of the exchange's trades once, and its balances must be the exchange's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.conftest import unique_id
from tests.runs.live_fixtures import GRID, WINDOW, live_client, live_settings
from tests.venues.sim_fixtures import KEY, account, control, running_sim, sim_config
from tradebot.candles.io import bundled, load_candles
from tradebot.engine import core
from tradebot.engine.orders import OrderStatus
from tradebot.runs.live import LiveOptions, run_on_live_data
from tradebot.runs.store import SqlRunStore
from tradebot.runtime.store import FillRecord
from tradebot.venues.exchange_sim import MarketConfig

FILL_SHARE = 0.0003
"""A segment of the window trades ~1-10 BTC; the grid's orders are ~0.003 BTC: at this share
most of them fill in two or more parts."""
LATE = {"kind": "delay", "channel": "user", "api_key": KEY, "probability": 1.0, "seconds": 1.5}
"""Every user event 1.5 s late while the rule stands: under the venue's 2 s fill grace, so they
still come by the stream, after the events of the undelayed batch that follows."""
BATCH = 6
"""Segments the market moves at once: a batch's events leave the exchange within milliseconds.
Batches alternate, delayed and not: the fills of an undelayed batch reach the run before the
delayed fills of the batch before it, however slow the machine is (a probability per event would
make which fills are overtaken depend on the event order, and that on the run's timing)."""
SEGMENTS = 3 * (WINDOW[1] - WINDOW[0])
WARM_UP = 30
"""Segments walked slowly (3 s) before the faults: the user stream starts at the run's first
fill check and is trusted only after a reconciliation a second later; until then every fill
comes by REST, in order, and a delayed stream event has nothing to be late to."""


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout_s:.0f} s")
        await asyncio.sleep(0.1)


def completions(fills: list[FillRecord], qty: dict[str, float]) -> list[tuple[str, int]]:
    """The grid orders (line >= 0) completed by the fills, in the order the run recorded them,
    each with the time of the trade that completed it (when the runner applies the fill)."""
    done: list[tuple[str, int]] = []
    filled: dict[str, float] = {}
    for fill in fills:
        coid = fill.client_order_id
        filled[coid] = filled.get(coid, 0.0) + fill.qty
        if fill.line >= 0 and filled[coid] >= qty[coid] * (1 - 1e-9):
            done.append((coid, fill.ts))
    return done


def cash_flow(fill: FillRecord) -> tuple[float, float]:
    """(quote, base) a fill moves on the account: its fee (reported valued in quote) out of
    the asset it was charged in, a buy's BTC as Binance takes it, a sell's USDT."""
    notional = fill.price * fill.qty
    in_base = fill.fee / fill.price if fill.fee_currency == "BTC" else 0.0
    in_quote = 0.0 if in_base else fill.fee
    if fill.side.value == "buy":
        return -notional - in_quote, fill.qty - in_base
    return notional - in_quote, -fill.qty - in_base


async def test_late_and_partial_fills_by_stream_are_each_recorded_once_and_balance(
    pg_url, sessions, master_key
):
    candles = load_candles(bundled()).slice(*WINDOW)
    config = sim_config(
        candles,
        [account(usdt=2_000.0, btc=0.0)],
        market=MarketConfig(maker_fee=0.0005, taker_fee=0.001),
        fill_share=FILL_SHARE,
    )
    async with running_sim(config) as sim:
        url = sim.url
        client = await live_client(sessions, url, master_key)
        settings = live_settings(client, master_key, EGRESS_IP=unique_id("ip"), **GRID)
        store = SqlRunStore(sessions, client, settings.RUN_ID)

        async def detail() -> Any:
            return await control(url, "GET", f"/_sim/accounts/{KEY}")

        async def resting() -> bool:
            return any(o["status"] == "NEW" for o in (await detail())["orders_detail"])

        async def caught_up() -> bool:
            trades = {f"BTC/USDT:{t['id']}" for t in (await detail())["trades_detail"]}
            return {f.trade_id for f in await store.fills()} == trades

        stop = asyncio.Event()
        options = LiveOptions(sandbox_url=url, stop=stop)
        run = asyncio.create_task(run_on_live_data(settings, options, database_url=pg_url))
        try:
            await until(resting, 30, "the grid rests on the exchange")
            for _ in range(WARM_UP):
                await control(url, "POST", "/_sim/advance", {"segments": 1})
                await asyncio.sleep(0.1)
            for _ in range((SEGMENTS - WARM_UP) // (2 * BATCH)):
                await control(url, "POST", "/_sim/faults", {"streams": [LATE]})
                await control(url, "POST", "/_sim/advance", {"segments": BATCH})
                await control(url, "DELETE", "/_sim/faults")
                await control(url, "POST", "/_sim/advance", {"segments": BATCH})
            faulted = (await control(url, "GET", "/_sim/faults"))["streams"]["fired"]
            await until(caught_up, 20, "the run recorded every exchange trade")
        finally:
            stop.set()
            outcome = await asyncio.wait_for(run, 30)
        exchange = await detail()
        markets_loaded = sim.sim.requests["GET /api/v3/exchangeInfo"]
    assert outcome.status == "stopped", outcome.reason
    assert markets_loaded == 1  # the run's two connections (prices, orders) share one load
    assert faulted.get("delay", 0) > 0

    fills = await store.fills()
    trades = {f"BTC/USDT:{t['id']}": t for t in exchange["trades_detail"]}
    recorded = [f.trade_id for f in fills]
    assert len(recorded) == len(set(recorded))  # each trade once
    assert set(recorded) == set(trades)
    for fill in fills:
        trade = trades[fill.trade_id]
        assert (fill.price, fill.qty) == pytest.approx((float(trade["price"]), float(trade["qty"])))

    # Orders filled in parts reached the run, and a fill completed an order after the fill of
    # a newer trade had been applied: the late-fill branch ran.
    qty = {o["client_order_id"]: float(o["qty"]) for o in exchange["orders_detail"]}
    per_order: dict[str, int] = {}
    for fill in fills:
        per_order[fill.client_order_id] = per_order.get(fill.client_order_id, 0) + 1
    assert max(per_order.values()) > 1
    done = completions(fills, qty)
    latest = [max(ts for _, ts in done[: k + 1]) for k in range(len(done))]
    late = [coid for k, (coid, ts) in enumerate(done) if k and ts < latest[k - 1]]
    assert late, done

    # The run's balances are the exchange's: its state holds every completed order (late ones
    # too); the parts of an order still open are the runner's until it completes.
    record = await store.load_run()
    assert record is not None
    open_parts = {
        o.client_order_id for o in await store.orders(frozenset({OrderStatus.PARTIALLY_FILLED}))
    }
    quote, base = record.state[core.QUOTE], record.state[core.BASE]
    fees = record.state[core.FEES]
    for fill in fills:
        if fill.client_order_id in open_parts:
            dq, db = cash_flow(fill)
            quote, base, fees = quote + dq, base + db, fees + fill.fee
    balances = exchange["balances"]
    usdt = balances["USDT"]["free"] + balances["USDT"]["locked"]
    btc = balances["BTC"]["free"] + balances["BTC"]["locked"]
    assert quote == pytest.approx(usdt, abs=1e-4)
    assert base == pytest.approx(btc, abs=1e-9)
    assert fees == pytest.approx(sum(f.fee for f in fills), abs=1e-6)
