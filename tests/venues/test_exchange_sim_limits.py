"""Request weight per IP: used-weight headers, 429 with Retry-After, a 418 ban for a client that
keeps going, the per-account order rate, a retrying client that waits as told, and new
WebSocket connections per IP."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import ccxt
import pytest

from tests.venues.sim_fixtures import (
    OTHER_KEY,
    OTHER_SECRET,
    account,
    ccxt_client,
    running_sim,
    sim_config,
)
from tradebot.venues.ccxt_errors import RateLimitedError, translate
from tradebot.venues.exchange_sim import LimitsConfig
from tradebot.venues.retry import Backoff, call_with_retries

PRICE = {"symbol": "BTCUSDT"}  # GET /api/v3/ticker/price: weight 2


async def test_used_weight_is_reported_and_a_429_carries_retry_after():
    limits = LimitsConfig(weight_limit=10, window_s=60)
    async with running_sim(sim_config(limits=limits)) as sim, ccxt_client(sim.url) as exchange:
        for used in (2, 4, 6, 8, 10):
            await exchange.public_get_ticker_price(PRICE)
            assert exchange.last_response_headers["X-MBX-USED-WEIGHT-1M"] == str(used)
        with pytest.raises(ccxt.DDoSProtection, match="429") as caught:
            await exchange.public_get_ticker_price(PRICE)
        retry_after = int(exchange.last_response_headers["Retry-After"])
        assert 1 <= retry_after <= 60
        error = translate(caught.value, exchange)
        assert isinstance(error, RateLimitedError)
        assert error.retry_after == retry_after
        assert error.retryable
        assert not error.order_state_unknown  # refused before any work


async def test_tenants_behind_one_ip_share_its_weight():
    limits = LimitsConfig(weight_limit=4, window_s=60)
    config = sim_config(accounts=[account(), account(OTHER_KEY, OTHER_SECRET)], limits=limits)
    async with (
        running_sim(config) as sim,
        ccxt_client(sim.url) as first,
        ccxt_client(sim.url, OTHER_KEY, OTHER_SECRET) as second,
    ):
        await first.public_get_ticker_price(PRICE)
        await first.public_get_ticker_price(PRICE)
        with pytest.raises(ccxt.DDoSProtection):
            await second.public_get_ticker_price(PRICE)  # the noisy neighbour spent it


async def test_a_client_that_ignores_its_429s_is_banned_with_418():
    limits = LimitsConfig(weight_limit=2, window_s=60, ban_after_429s=2, ban_s=120)
    async with running_sim(sim_config(limits=limits)) as sim, ccxt_client(sim.url) as exchange:
        await exchange.public_get_ticker_price(PRICE)
        for _ in range(2):
            with pytest.raises(ccxt.DDoSProtection, match="429"):
                await exchange.public_get_ticker_price(PRICE)
        for _ in range(2):
            with pytest.raises(ccxt.DDoSProtection, match=r"418.*IP banned until"):
                await exchange.public_get_ticker_price(PRICE)
            assert exchange.last_response_headers["Retry-After"] in ("119", "120")
    assert sim.sim.limiter.answered_429 == 2
    assert sim.sim.limiter.answered_418 == 2


async def test_a_retrying_client_waits_the_retry_after_and_then_succeeds():
    limits = LimitsConfig(weight_limit=2, window_s=1)
    async with running_sim(sim_config(limits=limits)) as sim, ccxt_client(sim.url) as exchange:
        await exchange.public_get_ticker_price(PRICE)
        waits: list[float] = []
        started = time.monotonic()
        answer = await call_with_retries(
            lambda: exchange.public_get_ticker_price(PRICE),
            lambda exc: translate(exc, exchange),
            Backoff(attempts=3, base_s=0.01),
            catch=(ccxt.BaseError,),
            on_retry=lambda _error, delay: waits.append(delay),
        )
    assert answer["symbol"] == "BTCUSDT"
    assert waits == [1.0]  # the server's Retry-After, not the 10 ms backoff
    assert time.monotonic() - started >= 1.0


async def test_too_many_new_orders_are_refused_per_account():
    limits = LimitsConfig(orders_per_10s=2)
    async with running_sim(sim_config(limits=limits)) as sim, ccxt_client(sim.url) as exchange:
        for price in (90_000, 90_001):
            await exchange.create_order("BTC/USDT", "limit", "buy", 0.001, price)
            assert "X-MBX-ORDER-COUNT-10S" in exchange.last_response_headers
        with pytest.raises(ccxt.DDoSProtection, match="-1015"):
            await exchange.create_order("BTC/USDT", "limit", "buy", 0.001, 90_002)
        assert len(await exchange.fetch_open_orders("BTC/USDT")) == 2


async def test_new_websocket_connections_past_the_ip_s_limit_are_refused_at_the_handshake():
    # Binance allows 300 connection attempts per IP in 5 minutes; here 2 in a second. The
    # refused attempt counts too: a client that keeps trying stays refused.
    limits = LimitsConfig(connections_per_window=2, connection_window_s=1.0)
    async with running_sim(sim_config(limits=limits)) as sim, aiohttp.ClientSession() as http:
        market, api = f"{sim.url}/ws/btcusdt@miniTicker", f"{sim.url}/ws-api/v3"
        async with http.ws_connect(market), http.ws_connect(api):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(market)
            assert refused.value.status == 429
            assert refused.value.headers is not None
            assert refused.value.headers["Retry-After"] == "1"
            assert sim.sim.limiter.state()["refused_connections"] == 1
            await asyncio.sleep(1.05)  # the window passed: open sockets do not count
            async with http.ws_connect(f"{sim.url}/ws") as again:
                await again.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 1})
                assert (await again.receive_json()) == {"result": [], "id": 1}
