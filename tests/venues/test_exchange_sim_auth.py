"""Signed requests: HMAC over the exact query string and body, timestamps within recvWindow,
and each key's permissions, as the real ccxt client meets them."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import aiohttp
import ccxt
import pytest

from tests.venues.sim_fixtures import (
    KEY,
    SECRET,
    account,
    ccxt_client,
    control,
    running_sim,
    sim_config,
)
from tradebot.venues.ccxt_errors import translate
from tradebot.venues.exchange_sim.auth import sign


async def test_a_wrong_secret_is_an_authentication_error():
    async with running_sim() as sim, ccxt_client(sim.url, KEY, "not-the-secret") as exchange:
        with pytest.raises(ccxt.AuthenticationError, match="-1022"):
            await exchange.fetch_balance()


async def test_an_unknown_key_is_an_authentication_error():
    async with running_sim() as sim, ccxt_client(sim.url, "nobody", SECRET) as exchange:
        with pytest.raises(ccxt.AuthenticationError, match="-2015"):
            await exchange.fetch_balance()


async def test_a_timestamp_outside_the_recv_window_is_refused():
    async with running_sim() as sim, ccxt_client(sim.url) as exchange:
        exchange.options["timeDifference"] = 120_000  # our clock two minutes behind
        with pytest.raises(ccxt.InvalidNonce, match="recvWindow"):
            await exchange.fetch_balance()


async def test_the_signature_covers_the_query_string_and_the_body_exactly_as_sent():
    async with running_sim() as sim, aiohttp.ClientSession() as session:
        await session.get(sim.url + "/api/v3/ping")  # (the weight counts apply to any request)
        query = urlencode({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT"})
        now = int(time.time() * 1000)
        body = urlencode(
            {
                "timeInForce": "GTC",
                "quantity": "0.01",
                "price": "90000",
                "newClientOrderId": "mixed-1",
                "timestamp": now,
            }
        )
        signed = body + "&signature=" + sign(SECRET, query + body)
        headers = {"X-MBX-APIKEY": KEY, "Content-Type": "application/x-www-form-urlencoded"}
        async with session.post(
            f"{sim.url}/api/v3/order?{query}", data=signed, headers=headers
        ) as r:
            assert r.status == 200, await r.text()
            assert (await r.json())["clientOrderId"] == "mixed-1"
        tampered = signed.replace("0.01", "0.02")
        async with session.post(
            f"{sim.url}/api/v3/order?{query}", data=tampered, headers=headers
        ) as r:
            assert r.status == 400
            assert await r.json() == {
                "code": -1022,
                "msg": "Signature for this request is not valid.",
            }


async def test_api_restrictions_are_read_through_ccxts_implicit_api_and_change_with_control():
    async with running_sim() as sim, ccxt_client(sim.url) as exchange:
        restrictions = await exchange.sapi_get_account_apirestrictions()
        assert restrictions["enableWithdrawals"] is False
        assert restrictions["enableSpotAndMarginTrading"] is True
        assert restrictions["enableReading"] is True
        await control(
            sim.url, "POST", f"/_sim/accounts/{KEY}/permissions", {"enableWithdrawals": True}
        )
        assert (await exchange.sapi_get_account_apirestrictions())["enableWithdrawals"] is True


async def test_a_key_without_trading_permission_cannot_place_orders_but_can_read():
    reader = account(enableSpotAndMarginTrading=False)
    async with running_sim(sim_config(accounts=[reader])) as sim, ccxt_client(sim.url) as exchange:
        await exchange.fetch_balance()  # reading is allowed
        with pytest.raises(ccxt.BaseError) as caught:
            await exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 90000)
    # ccxt reports Binance's -2015 after a first successful call as DDoSProtection; our
    # translation sees through it: a key that may not trade is fatal, not a rate limit.
    assert isinstance(caught.value, ccxt.DDoSProtection)
    error = translate(caught.value)
    assert not error.retryable
    assert "permission" in str(error)


async def test_a_key_without_reading_permission_cannot_read_its_account():
    blind = account(enableReading=False)
    async with running_sim(sim_config(accounts=[blind])) as sim, ccxt_client(sim.url) as exchange:
        with pytest.raises(ccxt.AuthenticationError, match="-2015"):
            await exchange.fetch_balance()
        assert (await exchange.sapi_get_account_apirestrictions())["enableReading"] is False


async def test_signed_endpoints_without_a_key_header_are_refused():
    async with (
        running_sim() as sim,
        aiohttp.ClientSession() as session,
        session.get(sim.url + "/api/v3/account?timestamp=1&signature=00") as r,
    ):
        assert (r.status, (await r.json())["code"]) == (401, -2014)
