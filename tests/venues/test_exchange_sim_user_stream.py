"""The simulator's user-data stream, as ccxt.pro's binance class meets it: watch_orders,
watch_my_trades and watch_balance over the WebSocket API's signed subscription, one account's
events to that account only."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import ccxt
import pytest

from tests.venues.sim_fixtures import (
    KEY,
    OTHER_KEY,
    OTHER_SECRET,
    SECRET,
    account,
    ccxt_client,
    control,
    running_sim,
    sim_config,
    subscribed,
)
from tradebot.venues.exchange_sim.auth import sign

SYMBOL = "BTC/USDT"


async def _price(exchange) -> float:
    return (await exchange.fetch_ticker(SYMBOL))["last"]


async def _advance_until_filled(sim, exchange, order_id: str, segments: int = 300) -> None:
    for _ in range(segments):
        if sim.sim.accounts[KEY].engine.orders[int(order_id)].status.value == "FILLED":
            return
        await control(sim.url, "POST", "/_sim/advance", {"segments": 1})
    raise AssertionError(f"order {order_id} did not fill in {segments} segments")


async def test_an_order_s_life_new_then_filled_by_stream_as_rest_reports_it():
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        watching = asyncio.create_task(exchange.watch_orders(SYMBOL))
        await subscribed(sim, api_key=KEY)
        price = await _price(exchange)
        placed = await exchange.create_order(SYMBOL, "limit", "buy", 0.01, round(price - 20, 2))
        (new,) = await asyncio.wait_for(watching, 3)
        assert (new["id"], new["status"], new["filled"]) == (placed["id"], "open", 0)
        assert new["info"]["x"] == new["info"]["X"] == "NEW"
        watching = asyncio.create_task(exchange.watch_orders(SYMBOL))
        await asyncio.sleep(0.02)
        await _advance_until_filled(sim, exchange, placed["id"])
        (filled,) = await asyncio.wait_for(watching, 3)
        rest = await exchange.fetch_order(placed["id"], SYMBOL)
    assert filled["info"]["x"] == "TRADE"
    assert filled["info"]["X"] == "FILLED"
    for key in ("id", "clientOrderId", "status", "price", "amount", "filled", "side", "type"):
        assert filled[key] == rest[key], key
    assert filled["lastTradeTimestamp"] == rest["lastTradeTimestamp"] or rest["status"] == "closed"


async def test_watch_my_trades_reports_the_fill_as_fetch_my_trades_does():
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        watching = asyncio.create_task(exchange.watch_my_trades(SYMBOL))
        await subscribed(sim, api_key=KEY)
        placed = await exchange.create_order(SYMBOL, "market", "buy", 0.02)
        (streamed,) = await asyncio.wait_for(watching, 3)
        (rest,) = await exchange.fetch_my_trades(SYMBOL)
    assert streamed["order"] == placed["id"]
    for key in ("id", "order", "side", "price", "amount", "cost", "timestamp", "takerOrMaker"):
        assert streamed[key] == pytest.approx(rest[key]) if key == "cost" else rest[key], key
    assert streamed["fee"]["cost"] == pytest.approx(rest["fee"]["cost"])
    # A buy's commission in the base it delivered, on the stream as by REST.
    assert streamed["fee"]["currency"] == rest["fee"]["currency"] == "BTC"


async def test_a_cancel_is_reported_and_watch_balance_follows_the_locked_funds():
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        watching = asyncio.create_task(exchange.watch_balance())
        await subscribed(sim, api_key=KEY)
        price = round(await _price(exchange) - 1000, 2)
        placed = await exchange.create_order(SYMBOL, "limit", "buy", 0.01, price)
        locked = await asyncio.wait_for(watching, 3)
        # Binance locks a buy's notional: its fee will come out of the base it delivers.
        assert locked["USDT"]["used"] == pytest.approx(price * 0.01)
        assert locked["USDT"]["free"] == pytest.approx(100_000 - price * 0.01)
        orders = asyncio.create_task(exchange.watch_orders(SYMBOL))
        released = asyncio.create_task(exchange.watch_balance())
        await asyncio.sleep(0.02)
        await exchange.cancel_order(placed["id"], SYMBOL)
        (cancelled,) = await asyncio.wait_for(orders, 3)
        balance = await asyncio.wait_for(released, 3)
    assert cancelled["status"] == "canceled"
    assert cancelled["info"]["x"] == "CANCELED"
    assert balance["USDT"]["used"] == 0
    assert balance["USDT"]["free"] == pytest.approx(100_000)


async def test_each_account_hears_only_its_own_events():
    config = sim_config(accounts=[account(), account(OTHER_KEY, OTHER_SECRET)])
    async with (
        running_sim(config) as sim,
        ccxt_client(sim.url, streams=True) as mine,
        ccxt_client(sim.url, OTHER_KEY, OTHER_SECRET, streams=True) as theirs,
    ):
        their_watch = asyncio.create_task(theirs.watch_orders(SYMBOL))
        my_watch = asyncio.create_task(mine.watch_orders(SYMBOL))
        await subscribed(sim, api_key=KEY)
        await subscribed(sim, api_key=OTHER_KEY)
        price = round(await _price(mine) - 1000, 2)
        placed = await mine.create_order(SYMBOL, "limit", "buy", 0.01, price)
        (mine_seen,) = await asyncio.wait_for(my_watch, 3)
        await asyncio.sleep(0.3)
        assert not their_watch.done(), "another account's order reached this stream"
        theirs_placed = await theirs.create_order(SYMBOL, "limit", "sell", 0.01, price + 2000)
        (theirs_seen,) = await asyncio.wait_for(their_watch, 3)
    assert mine_seen["id"] == placed["id"]
    assert theirs_seen["id"] == theirs_placed["id"]
    assert theirs_seen["side"] == "sell"


async def test_a_wrong_secret_cannot_subscribe():
    async with (
        running_sim() as sim,
        ccxt_client(sim.url, KEY, "not-the-secret", streams=True) as exchange,
    ):
        await exchange.load_markets()
        # ccxt raises the -1022 AuthenticationError, or a KeyError from its own cleanup of the
        # refused subscription (ccxt's handle_ws_error and its caller both delete it)
        with pytest.raises((ccxt.AuthenticationError, KeyError)):
            await asyncio.wait_for(exchange.watch_orders(SYMBOL), 3)
        assert not sim.sim.streams.listening_user(KEY)


def _signed(secret: str, **params: object) -> dict[str, object]:
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "signature": sign(secret, payload)}


async def test_the_ws_api_subscription_on_the_wire():
    async with (
        running_sim() as sim,
        aiohttp.ClientSession() as session,
        session.ws_connect(sim.url.replace("http", "ws") + "/ws-api/v3") as ws,
    ):
        now = int(time.time() * 1000)
        bad = _signed("wrong", apiKey=KEY, timestamp=now)
        await ws.send_json(
            {"id": "1", "method": "userDataStream.subscribe.signature", "params": bad}
        )
        refused = json.loads((await ws.receive(timeout=3)).data)
        assert refused["id"] == "1"
        assert refused["status"] == 400
        assert refused["error"]["code"] == -1022
        good = _signed(SECRET, apiKey=KEY, recvWindow=10000, timestamp=now)
        await ws.send_json(
            {"id": "2", "method": "userDataStream.subscribe.signature", "params": good}
        )
        ok = json.loads((await ws.receive(timeout=3)).data)
        assert ok["status"] == 200
        assert ok["result"] == {"subscriptionId": 0}
        assert ok["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
        sim.sim.accounts[KEY].engine.last_price = 100_000.0
        async with ccxt_client(sim.url) as rest:
            await rest.create_order(SYMBOL, "limit", "buy", 0.01, 90_000)
        report = json.loads((await ws.receive(timeout=3)).data)
        assert report["subscriptionId"] == 0
        assert report["event"]["e"] == "executionReport"
        position = json.loads((await ws.receive(timeout=3)).data)
        assert position["event"]["e"] == "outboundAccountPosition"
        await ws.send_json(
            {"id": "3", "method": "userDataStream.unsubscribe", "params": {"subscriptionId": 0}}
        )
        assert json.loads((await ws.receive(timeout=3)).data)["result"] == {}
        assert not sim.sim.streams.listening_user(KEY)
