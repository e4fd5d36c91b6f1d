"""The real ccxt client behind the shared limiter, against the local exchange simulator (which
answers 429 past its per-IP weight of 200 per 2 seconds, as Binance does past 6000 per minute).

A limiter decides when a request may leave; the exchange counts when it arrives. On a loaded
test machine the two can be a few hundred milliseconds apart, which is nothing against
Binance's minute but a lot against a 2-second window: hence the wider 70 % headroom here."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import ccxt
import pytest
from prometheus_client import REGISTRY

from tests.venues.sim_fixtures import account, ccxt_client, control, running_sim, sim_config
from tests.venues.test_rate_limit import ORDERS_HEADER, WEIGHT_HEADER, own_limiters
from tradebot.venues.exchange_sim import LimitsConfig, RunningSimulator
from tradebot.venues.rate_limit import (
    Priority,
    RateLimitBlocked,
    RateLimiter,
    RateLimits,
    RateWindow,
)
from tradebot.venues.rate_limit_ccxt import BinanceWeight, bind, throttled

SYMBOL = "BTC/USDT"
PRICE = {"symbol": "BTCUSDT"}  # GET /api/v3/ticker/price: weight 2
KEYS = [(f"rl-tenant-{i}", f"rl-secret-{i}") for i in range(3)]
SIM_LIMITS = LimitsConfig(weight_limit=200, window_s=2.0, ban_after_429s=10_000)
LIMITS = RateLimits(  # the simulator's limits; our budget is 140 per 2 s
    weight=RateWindow(SIM_LIMITS.weight_limit, SIM_LIMITS.window_s, WEIGHT_HEADER),
    orders=(RateWindow(SIM_LIMITS.orders_per_10s, 10.0, ORDERS_HEADER),),
    headroom_pct=70.0,
    tenant_share_pct=50.0,
)

Tenant = tuple[str, Any, RateLimiter]  # account (its API key), ccxt exchange, its limiter


@asynccontextmanager
async def tenants_on_sim(
    *, behind_limiter: bool = True
) -> AsyncIterator[tuple[RunningSimulator, list[Tenant]]]:
    """The simulator and a ccxt client per tenant, each client with its own limiter instance
    (as separate workers would have), all on one test's Redis keys."""
    accounts = [account(key, secret) for key, secret in KEYS]
    async with (
        own_limiters() as limiters,
        running_sim(sim_config(accounts=accounts, limits=SIM_LIMITS)) as sim,
        AsyncExitStack() as stack,
    ):
        found: list[Tenant] = []
        for key, secret in KEYS:
            exchange = await stack.enter_async_context(ccxt_client(sim.url, key, secret))
            limiter = limiters(LIMITS)
            if behind_limiter:
                bind(exchange, limiter, account=key)
            found.append((key, exchange, limiter))
        yield sim, found


async def trade_loop(tenant: Tenant, price: float, until: float) -> int:
    """What a grid bot does, as fast as it is let: ticker, open orders, a new order. Returns
    the weight its finished calls spent."""
    key, exchange, limiter = tenant
    spent = 0
    while time.monotonic() < until:
        await throttled(
            limiter, BinanceWeight.TICKER, lambda: exchange.fetch_ticker(SYMBOL), account=key
        )
        await throttled(
            limiter,
            BinanceWeight.OPEN_ORDERS,
            lambda: exchange.fetch_open_orders(SYMBOL),
            account=key,
        )
        await throttled(
            limiter,
            BinanceWeight.ORDER_CREATE,
            lambda: exchange.create_order(SYMBOL, "limit", "buy", 0.001, price),
            account=key,
            is_order=True,
        )
        spent += BinanceWeight.TICKER + BinanceWeight.OPEN_ORDERS + BinanceWeight.ORDER_CREATE
    return spent


def far_bid(sim: RunningSimulator) -> float:
    return round(sim.sim.market.price * 0.5, 2)  # rests on the book, never fills


async def test_ccxt_clients_behind_the_limiter_never_see_a_429():
    # Catches any limiter that is not shared (per client, per worker, per process): 9 loops of
    # 3 tenants at full speed, each tenant on its own limiter instance, get 429s otherwise
    # (the next test shows that this load does).
    async with tenants_on_sim() as (sim, clients):
        until = time.monotonic() + 1.5 * SIM_LIMITS.window_s
        loops = [trade_loop(tenant, far_bid(sim), until) for tenant in clients for _ in range(3)]
        spent = sum(await asyncio.gather(*loops))  # any ccxt error would fail the test here
        limits = sim.sim.limiter.state()
    assert limits["answered_429"] == 0
    assert limits["answered_418"] == 0
    assert spent >= LIMITS.budget  # and the limiter did let them work


async def test_the_same_clients_without_the_limiter_get_429s():
    # The control of the test above: the simulator does answer 429 to this load.
    async with tenants_on_sim(behind_limiter=False) as (sim, clients):

        async def unthrottled(exchange: Any) -> None:
            for _ in range(100):
                await exchange.public_get_ticker_price(PRICE)

        results = await asyncio.gather(
            *(unthrottled(exchange) for _, exchange, _ in clients), return_exceptions=True
        )
    assert any(isinstance(r, ccxt.DDoSProtection) for r in results)
    assert sim.sim.limiter.answered_429 > 0


async def test_weight_spent_by_another_client_on_the_ip_is_learned_from_headers():
    # Catches a limiter that only counts its own requests: another program on the IP spent
    # half the window, the used-weight header says so, and our budget shrinks to match.
    async with (
        tenants_on_sim() as (sim, clients),
        ccxt_client(sim.url, *KEYS[1]) as foreign,  # not behind our limiter
    ):
        key, exchange, limiter = clients[0]
        window = SIM_LIMITS.window_s
        await asyncio.sleep(window - time.time() % window + 0.01)  # a simulator window starts
        for _ in range(50):
            await foreign.public_get_ticker_price(PRICE)  # 100 weight we never acquired
        await throttled(
            limiter,
            BinanceWeight.TICKER_PRICE,
            lambda: exchange.public_get_ticker_price(PRICE),
            account=key,
        )
        assert (await limiter.usage()).weight >= 102
        with pytest.raises(RateLimitBlocked, match="budget"):  # 102 + 50 > 140
            await limiter.acquire(50, account=key, max_wait=0)


async def test_a_429_from_the_exchange_blocks_every_tenant_until_retry_after():
    # Catches ignoring Retry-After (or honouring it only in the client that got the 429): the
    # other tenants' workers would keep sending and turn the 429s into a 418 ban.
    async with tenants_on_sim() as (sim, clients):
        (key, exchange, limiter), (other_key, other, other_limiter) = clients[0], clients[1]
        rule = {"kind": "429", "path": "/api/v3/ticker/price", "retry_after_s": 2}
        await control(sim.url, "POST", "/_sim/faults", {"rules": [rule]})
        with pytest.raises(ccxt.DDoSProtection):
            await throttled(
                limiter,
                BinanceWeight.TICKER_PRICE,
                lambda: exchange.public_get_ticker_price(PRICE),
                account=key,
            )
        with pytest.raises(RateLimitBlocked, match="blocked:429"):
            await other_limiter.acquire(1, account=other_key, max_wait=0.5)
        started = time.monotonic()
        await throttled(
            other_limiter,
            BinanceWeight.TICKER_PRICE,
            lambda: other.public_get_ticker_price(PRICE),
            account=other_key,
        )
        assert time.monotonic() - started >= 1.2
    assert sim.sim.requests["GET /api/v3/ticker/price"] == 2  # nothing sent while blocked


async def test_requests_outside_throttled_are_still_charged_and_reported():
    # Catches a hook that only counts what the venue remembered to wrap: load_markets and any
    # direct call still spend the shared budget (exchangeInfo 20 + ticker 2), and a 429 they
    # meet still blocks everyone.
    async with tenants_on_sim() as (sim, clients):
        (key, exchange, limiter), (_, _, other_limiter) = clients[0], clients[1]
        await exchange.fetch_ticker(SYMBOL)
        usage = await limiter.usage(key)
        assert sim.sim.requests["GET /api/v3/exchangeInfo"] == 1
        assert usage.tenant_weight == BinanceWeight.EXCHANGE_INFO + BinanceWeight.TICKER
        rule = {"kind": "429", "path": "/api/v3/ticker/price", "retry_after_s": 5}
        await control(sim.url, "POST", "/_sim/faults", {"rules": [rule]})
        with pytest.raises(ccxt.DDoSProtection):
            await exchange.public_get_ticker_price(PRICE)
        await asyncio.sleep(0.2)  # reported from a background task
        assert (await other_limiter.usage()).blocked_s > 4


def waits_counted(purpose: str) -> float:
    sample = REGISTRY.get_sample_value(
        "tradebot_rate_limit_wait_seconds_count", {"exchange": "binance", "purpose": purpose}
    )
    return sample or 0.0


async def test_weight_ccxt_adds_inside_throttled_waits_at_the_callers_priority():
    # Catches the extra weight of a call (markets loaded first: exchangeInfo's 20) queued at
    # the default priority: a fill query would then wait behind reconciliations for it.
    async with tenants_on_sim() as (_, clients):
        key, exchange, limiter = clients[0]
        before = waits_counted("query"), waits_counted("reconcile")
        await throttled(
            limiter,
            BinanceWeight.TICKER,
            lambda: exchange.fetch_ticker(SYMBOL),
            account=key,
            priority=Priority.QUERY,
        )
        assert (await limiter.usage(key)).tenant_weight == (
            BinanceWeight.TICKER + BinanceWeight.EXCHANGE_INFO
        )
    # The call's own 2, then markets (20, less the 2 already held), then the ticker's 2.
    assert (waits_counted("query"), waits_counted("reconcile")) == (before[0] + 3, before[1])


async def test_a_fill_read_of_one_order_is_charged_what_binance_charges():
    # Catches ccxt's table (myTrades: 20) charged for a read that names its order: Binance
    # charges 5 for it, and the 15 more a restart or a stream gap spends per order in doubt
    # filled the IP's budget in the fault soak, so restarts waited seconds for it.
    async with tenants_on_sim() as (sim, clients):
        key, exchange, limiter = clients[0]
        await exchange.load_markets()
        order = await exchange.create_order(SYMBOL, "limit", "buy", 0.001, far_bid(sim))
        ours, theirs = (await limiter.usage(key)).tenant_weight, sim.sim.limiter.charged
        trades = await throttled(
            limiter,
            BinanceWeight.MY_TRADES_OF_ORDER,
            lambda: exchange.fetch_my_trades(SYMBOL, params={"orderId": order["id"]}),
            account=key,
            ccxt_weight=BinanceWeight.MY_TRADES,
        )
        assert trades == []
        assert (await limiter.usage(key)).tenant_weight - ours == BinanceWeight.MY_TRADES_OF_ORDER
        assert sim.sim.limiter.charged - theirs == BinanceWeight.MY_TRADES_OF_ORDER
        # Without an order the read is the costly one, on both sides.
        await throttled(
            limiter, BinanceWeight.MY_TRADES, lambda: exchange.fetch_my_trades(SYMBOL), account=key
        )
        assert sim.sim.limiter.charged - theirs == 25
        assert (await limiter.usage(key)).tenant_weight - ours == 25
