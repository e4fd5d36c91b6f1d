"""Prices and fills by stream: the real ccxt.pro client against the simulator's WebSockets.

The simulator is stepped (its market moves only when a test advances it), so every price and
every fill here is caused by the test; REST requests are read off the simulator's counters.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tests.conftest import unique_id
from tests.venues.sim_fixtures import KEY, SECRET, control, running_sim, sim_config
from tradebot.config import load_settings
from tradebot.engine.types import Side
from tradebot.runtime.ports import OrderRequest, Tick, TradeReport
from tradebot.venues.ccxt_venue import CcxtVenue
from tradebot.venues.connection import ExchangeAccess, ExchangeConnection, connect
from tradebot.venues.retry import Backoff
from tradebot.venues.stream_prices import FIRST_WAIT_S, StreamPrices

FILL_PATHS = ("GET /api/v3/openOrders", "GET /api/v3/order", "GET /api/v3/myTrades")


@asynccontextmanager
async def connection(
    url: str, *, keyed: bool, reconcile_ms: int = 300_000
) -> AsyncIterator[ExchangeConnection]:
    settings = load_settings(
        RECONCILE_INTERVAL_MS=reconcile_ms,
        EXCHANGE_STREAMS=True,
        STREAM_STALE_MS=400,
        ORDER_POLL_INTERVAL_MS=100,
        EGRESS_IP=unique_id("ip"),
    )
    access = ExchangeAccess(
        "binance",
        "BTC/USDT",
        account="client-a" if keyed else None,
        api_key=KEY if keyed else None,
        secret=SECRET if keyed else None,
        sandbox_url=url,
    )
    conn = connect(settings, access)
    conn.venue.fill_grace_ms = 300
    try:
        yield conn
    finally:
        await conn.close()


def rest_calls(sim: Any, *paths: str) -> int:
    return sum(sim.sim.requests[p] for p in paths)


async def step(url: str, feed: Any) -> Tick:
    """One segment of market, and the tick it gives."""
    await control(url, "POST", "/_sim/advance", {"segments": 1})
    tick = await asyncio.wait_for(feed.next_tick(), 5)
    assert tick is not None
    return tick


async def test_prices_come_from_the_stream_and_by_rest_only_while_it_is_stalled() -> None:
    async with running_sim(sim_config()) as sim, connection(sim.url, keyed=False) as conn:
        prices = conn.prices
        assert isinstance(prices, StreamPrices)
        await prices.market_rules()
        assert await asyncio.wait_for(prices.next_tick(), 5) is not None  # subscribed
        tickers = rest_calls(sim, "GET /api/v3/ticker/price", "GET /api/v3/ticker/24hr")
        polled, before = prices.polled, prices.streamed
        streamed = [await step(sim.url, prices) for _ in range(6)]
        assert (prices.streamed - before, prices.polled) == (6, polled)
        assert rest_calls(sim, "GET /api/v3/ticker/price", "GET /api/v3/ticker/24hr") == tickers
        __, rest_price = await conn.venue.ticker()
        assert streamed[-1].price == rest_price

        await control(
            sim.url, "POST", "/_sim/faults", {"streams": [{"kind": "stall", "seconds": 1.5}]}
        )
        stalled = await step(sim.url, prices)
        assert prices.polled == polled + 1
        assert stalled.price == (await conn.venue.ticker())[1]
        await asyncio.sleep(1.6)  # the stall ends; the pump is on a new socket by now
        await control(sim.url, "DELETE", "/_sim/faults")
        before = prices.streamed
        for _ in range(3):
            await step(sim.url, prices)
        assert prices.streamed > before


async def test_the_first_price_comes_by_rest_at_once_when_the_stream_is_refused() -> None:
    # Naive: a restarting run waits out the stream's whole staleness (5 s) for its first tick
    # (the soak saw the restarts after a SIGKILL wait so while the exchange refused streams).
    async with running_sim(sim_config()) as sim, connection(sim.url, keyed=False) as conn:
        prices = conn.prices
        assert isinstance(prices, StreamPrices)
        prices.stale_after_s = 5.0
        await prices.market_rules()
        refused = {"channel": "market", "refuse_s": 30}
        await control(sim.url, "POST", "/_sim/streams/disconnect", refused)
        started = time.monotonic()
        tick = await asyncio.wait_for(prices.next_tick(), 10)
        waited = time.monotonic() - started
        assert tick is not None
        assert prices.polled == 1
        assert waited < FIRST_WAIT_S


async def fills_until(
    url: str, venue: CcxtVenue, coid: str, *, segments: int = 120
) -> list[TradeReport]:
    """Step the market (the venue reading its ticks and fills as a run does) until ``coid``
    has filled; every trade the venue reports meanwhile."""
    trades: list[TradeReport] = []
    for _ in range(segments):
        await asyncio.sleep(0.02)  # a market's pace, not a test's: the fill grace is wall time
        await step(url, venue)
        trades += await venue.new_trades()
        if any(t.client_order_id == coid for t in trades):
            for _ in range(5):  # and nothing more arrives later (a duplicate, a REST copy)
                await asyncio.sleep(0.1)
                trades += await venue.new_trades()
            return trades
    raise AssertionError(f"{coid} did not fill in {segments} segments")


@asynccontextmanager
async def resting_buy(
    reconcile_ms: int = 300_000,
) -> AsyncIterator[tuple[Any, CcxtVenue, str]]:
    """A keyed venue on the streams with a small buy just under the price (the next dip
    fills it), past its first reconciliation (the stream was surely listening by then):
    the simulator, the venue and the buy's client order id."""
    async with (
        running_sim(sim_config()) as sim,
        connection(sim.url, keyed=True, reconcile_ms=reconcile_ms) as conn,
    ):
        venue = conn.venue
        await venue.market_rules()
        await step(sim.url, venue)
        __, price = await venue.ticker()
        coid = unique_id("buy")
        await venue.submit(OrderRequest(coid, Side.BUY, 0.001, round(price - 5.0, 2)))
        await venue.new_trades()
        await asyncio.sleep(1.1)
        await venue.new_trades()
        assert venue.stream is not None
        assert not venue.stream.gap
        yield sim, venue, coid


async def test_a_fill_arrives_by_the_user_stream_without_a_rest_request() -> None:
    async with resting_buy() as (sim, venue, coid):
        asked = rest_calls(sim, *FILL_PATHS)
        trades = await fills_until(sim.url, venue, coid)
        assert [t.client_order_id for t in trades] == [coid]
        assert trades[0].qty == pytest.approx(0.001)
        assert trades[0].side is Side.BUY
        assert rest_calls(sim, *FILL_PATHS) == asked


async def test_an_order_s_own_acknowledgement_wakes_no_run_and_its_fill_does() -> None:
    # Naive: every order update woke the run, its own order's acknowledgement (and copies)
    # too: a run sending an order heard it as news and decided again on nothing new, after
    # waiting for its own round trip (a thousand runs' news-to-decision tail).
    async with (
        running_sim(sim_config()) as sim,
        connection(sim.url, keyed=True) as conn,
    ):
        venue = conn.venue
        await venue.market_rules()
        await step(sim.url, venue)
        __, price = await venue.ticker()
        await venue.new_trades()  # the stream listens from now on
        assert venue.stream is not None
        woken: list[None] = []
        venue.stream.on_news = lambda: woken.append(None)
        # The answer is held: the acknowledgement comes by the stream while the run waits,
        # and twice (a copy) after it.
        held = {"kind": "timeout", "phase": "after", "method": "POST", "path": "/api/v3/order"}
        copies = {"kind": "duplicate", "channel": "user", "count": 10}
        await control(sim.url, "POST", "/_sim/faults", {"rules": [{**held, "hold_s": 0.5}]})
        await control(sim.url, "POST", "/_sim/faults", {"streams": [copies]})
        coid = unique_id("buy")
        report = await venue.submit(OrderRequest(coid, Side.BUY, 0.001, round(price - 5.0, 2)))
        assert report.client_order_id == coid
        await asyncio.sleep(0.5)
        assert woken == []
        trades = await fills_until(sim.url, venue, coid)
        assert [t.client_order_id for t in trades] == [coid]
        assert woken  # the fill is news


async def test_duplicated_user_events_give_one_fill() -> None:
    async with resting_buy() as (sim, venue, coid):
        fault = {"kind": "duplicate", "channel": "user", "count": 10}
        await control(sim.url, "POST", "/_sim/faults", {"streams": [fault]})
        trades = await fills_until(sim.url, venue, coid)
        assert [t.client_order_id for t in trades] == [coid]


async def test_a_fill_the_stream_drops_is_found_because_the_market_traded_through_it() -> None:
    async with resting_buy() as (sim, venue, coid):
        fault = {"kind": "drop", "channel": "user", "count": 1000}
        await control(sim.url, "POST", "/_sim/faults", {"streams": [fault]})
        asked = rest_calls(sim, "GET /api/v3/order")
        trades = await fills_until(sim.url, venue, coid)
        assert [t.client_order_id for t in trades] == [coid]
        assert rest_calls(sim, "GET /api/v3/order") > asked  # asked once it was overdue


async def _filled(url: str, coid: str) -> bool:
    detail = await control(url, "GET", f"/_sim/accounts/{KEY}")
    return any(
        o["client_order_id"] == coid and o["status"] == "FILLED" for o in detail["orders_detail"]
    )


async def test_the_periodic_check_waits_for_no_round_trip_and_finds_what_the_stream_lost() -> None:
    # Naive: the check by REST every few minutes ran in ``new_trades``, before the tick's
    # decision, or after it in the same tick: with a thousand runs, the ticks that came
    # meanwhile waited for its round trips (seconds, in the wave of checks).
    async with resting_buy(reconcile_ms=1_500) as (sim, venue, coid):
        venue.fill_grace_ms = 600_000  # the market's crossing does not ask for it here
        venue.hedge_after_ms = 0  # the held answer is what the check must not wait for
        fault = {"kind": "drop", "channel": "user", "count": 1000}
        await control(sim.url, "POST", "/_sim/faults", {"streams": [fault]})
        asked = rest_calls(sim, *FILL_PATHS)
        for _ in range(120):
            await step(sim.url, venue)
            assert await venue.new_trades() == []  # the stream lost it
            if await _filled(sim.url, coid):
                break
        else:
            raise AssertionError("the buy did not fill")
        slow = {"kind": "timeout", "phase": "after", "path": "/api/v3/openOrders", "hold_s": 2}
        await control(sim.url, "POST", "/_sim/faults", {"rules": [slow]})
        await asyncio.sleep(1.6)  # the check is due
        assert await venue.new_trades() == []
        assert rest_calls(sim, *FILL_PATHS) == asked  # never asked before a decision
        started = time.monotonic()
        assert await venue.reconciled_trades() == []  # asked, not waited for
        assert time.monotonic() - started < 1.0
        trades: list[TradeReport] = []
        while not trades and time.monotonic() - started < 10:
            await asyncio.sleep(0.1)
            trades = await venue.reconciled_trades()
        assert [t.client_order_id for t in trades] == [coid]
        assert time.monotonic() - started >= 2  # its answer was held that long
        assert rest_calls(sim, *FILL_PATHS) > asked
        assert await venue.reconciled_trades() == []  # the next one is a period away


async def test_after_a_disconnect_the_fills_are_reconciled_by_rest_once() -> None:
    async with resting_buy() as (sim, venue, coid):
        await control(sim.url, "POST", "/_sim/streams/disconnect", {"channel": "user"})
        await asyncio.sleep(0.2)
        trades = await fills_until(sim.url, venue, coid)
        assert [t.client_order_id for t in trades] == [coid]
        assert venue.stream is not None
        assert venue.stream.errors >= 1


async def test_while_the_user_stream_is_down_fills_are_polled_no_more_than_by_polling() -> None:
    # Naive: every tick polls the open orders while the stream is down (a thousand runs then
    # spend the IP's budget that their restarts need).
    async with resting_buy() as (sim, venue, _coid):
        __, price = await venue.ticker()
        far = unique_id("far")  # a buy that will not fill: it stays watched
        await venue.submit(OrderRequest(far, Side.BUY, 0.001, round(price * 0.5, 2)))
        refused = {"channel": "user", "refuse_s": 30}
        await control(sim.url, "POST", "/_sim/streams/disconnect", refused)
        await asyncio.sleep(0.2)
        assert venue.stream is not None
        assert venue.stream.gap
        venue.poll_interval_ms = 500
        asked = rest_calls(sim, "GET /api/v3/openOrders")
        started = time.monotonic()
        for _ in range(30):
            await asyncio.sleep(0.02)
            await step(sim.url, venue)
            await venue.new_trades()
        polls = rest_calls(sim, "GET /api/v3/openOrders") - asked
        assert venue.stream.gap
        assert 1 <= polls <= (time.monotonic() - started) / 0.5 + 1 < 30


async def test_a_price_poll_that_fails_while_the_stream_is_down_is_tried_again() -> None:
    # Naive: the REST fallback's failure ends the shared feed: every run of the pair stops.
    async with running_sim(sim_config()) as sim, connection(sim.url, keyed=False) as conn:
        prices = conn.prices
        assert isinstance(prices, StreamPrices)
        prices.rest.backoff = Backoff(attempts=2, base_s=0.01, cap_s=0.02)
        await prices.market_rules()
        assert await asyncio.wait_for(prices.next_tick(), 5) is not None
        failing = {"kind": "5xx", "path": "/api/v3/ticker/24hr", "count": 4}
        stall = {"kind": "stall", "seconds": 30}
        await control(sim.url, "POST", "/_sim/faults", {"rules": [failing], "streams": [stall]})
        asked = sim.sim.requests["GET /api/v3/ticker/24hr"]
        tick = await asyncio.wait_for(prices.next_tick(), 10)
        assert tick is not None  # a price came (by the stream's reopened socket or by REST)
        assert sim.sim.requests["GET /api/v3/ticker/24hr"] >= asked + 2  # after a failed poll
