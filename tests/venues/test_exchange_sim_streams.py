"""The simulator's market streams, as ccxt.pro's binance class meets them: watch_ticker,
watch_trades and watch_bids_asks over ``/ws/<n>``, and the subscribe protocol on the wire."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from tests.venues.sim_fixtures import (
    ccxt_client,
    control,
    running_sim,
    sim_config,
    subscribed,
)

SYMBOL = "BTC/USDT"


async def test_watch_ticker_starts_at_the_current_price_and_follows_every_step():
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        first = await asyncio.wait_for(exchange.watch_ticker(SYMBOL), 3)
        assert first["last"] == (await exchange.fetch_ticker(SYMBOL))["last"]
        seen = []
        for _ in range(4):
            pending = asyncio.create_task(exchange.watch_ticker(SYMBOL))
            await asyncio.sleep(0.02)  # the watch is registered before the market moves
            await control(sim.url, "POST", "/_sim/advance", {"segments": 1})
            ticker = await asyncio.wait_for(pending, 3)
            rest = await exchange.fetch_ticker(SYMBOL)
            assert (ticker["last"], ticker["timestamp"]) == (rest["last"], rest["timestamp"])
            assert ticker["info"]["e"] == "24hrMiniTicker"
            seen.append(ticker["last"])
        assert len(set(seen)) > 1, "the price never moved"


async def test_watch_ticker_with_the_full_ticker_stream():
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        ticker = await asyncio.wait_for(exchange.watch_ticker(SYMBOL, {"name": "ticker"}), 3)
        rest = await exchange.fetch_ticker(SYMBOL)
        for key in ("last", "open", "high", "low", "bid", "ask", "baseVolume", "quoteVolume"):
            assert ticker[key] == pytest.approx(rest[key]), key
        assert ticker["info"]["e"] == "24hrTicker"


async def test_watch_trades_gets_each_walked_segment_as_the_rest_trades_show_it():
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        got: list[dict] = []
        for _ in range(4):
            pending = asyncio.create_task(exchange.watch_trades(SYMBOL))
            await subscribed(sim, "btcusdt@trade")
            await control(sim.url, "POST", "/_sim/advance", {"segments": 1})
            got += await asyncio.wait_for(pending, 3)
        rest = await exchange.fetch_trades(SYMBOL, limit=4)
    assert [t["id"] for t in got] == [t["id"] for t in rest] == ["0", "1", "2", "3"]
    assert [t["price"] for t in got] == [t["price"] for t in rest]
    assert [t["amount"] for t in got] == [t["amount"] for t in rest]
    assert [t["timestamp"] for t in got] == [t["timestamp"] for t in rest]


async def test_watch_trades_by_the_aggregate_trade_stream():
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        pending = asyncio.create_task(exchange.watch_trades(SYMBOL, params={"name": "aggTrade"}))
        await subscribed(sim, "btcusdt@aggTrade")
        await control(sim.url, "POST", "/_sim/advance", {"segments": 1})
        (trade,) = await asyncio.wait_for(pending, 3)
        (rest,) = await exchange.fetch_trades(SYMBOL, limit=1)
    assert trade["info"]["e"] == "aggTrade"
    assert (trade["id"], trade["price"], trade["amount"]) == (
        rest["id"],
        rest["price"],
        rest["amount"],
    )


async def test_watch_bids_asks_is_one_tick_around_the_last_price_as_it_moves():
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        quotes = await asyncio.wait_for(exchange.watch_bids_asks([SYMBOL]), 3)
        before = quotes[SYMBOL]
        pending = asyncio.create_task(exchange.watch_bids_asks([SYMBOL]))
        await asyncio.sleep(0.02)
        await control(sim.url, "POST", "/_sim/advance", {"segments": 1})
        after = (await asyncio.wait_for(pending, 3))[SYMBOL]
        last = (await exchange.fetch_ticker(SYMBOL))["last"]
    assert after["ask"] - after["bid"] == pytest.approx(0.01)
    assert after["bid"] <= last < after["ask"]
    assert after["info"]["u"] > before["info"]["u"]


async def test_the_real_time_clock_drives_the_streams_too():
    # 1m candles at 600x: a segment every 1/30 s, no control call at all.
    async with (
        running_sim(sim_config(speed=600)) as sim,
        ccxt_client(sim.url, streams=True) as exchange,
    ):
        trades = []
        while len(trades) < 5:
            trades += await asyncio.wait_for(exchange.watch_trades(SYMBOL), 3)
    ids = [int(t["id"]) for t in trades]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


async def test_un_watch_unsubscribes():
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        pending = asyncio.create_task(exchange.watch_trades(SYMBOL))
        await subscribed(sim, "btcusdt@trade")
        await control(sim.url, "POST", "/_sim/advance", {"segments": 1})
        await asyncio.wait_for(pending, 3)
        await asyncio.wait_for(exchange.un_watch_trades(SYMBOL), 3)
        assert not sim.sim.streams.listening("btcusdt@trade")


async def _frames(ws: aiohttp.ClientWebSocketResponse, n: int) -> list[dict]:
    return [json.loads((await ws.receive(timeout=3)).data) for _ in range(n)]


async def test_the_subscribe_protocol_on_the_wire():
    async with running_sim() as sim, aiohttp.ClientSession() as session:
        async with session.ws_connect(sim.url.replace("http", "ws") + "/ws/0") as ws:
            await ws.send_json(
                {"method": "SUBSCRIBE", "params": ["btcusdt@trade", "btcusdt@bookTicker"], "id": 1}
            )
            ack, book = await _frames(ws, 2)
            assert ack == {"result": None, "id": 1}
            assert set(book) == {"u", "s", "b", "B", "a", "A"}
            await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 2})
            assert await _frames(ws, 1) == [
                {"result": ["btcusdt@bookTicker", "btcusdt@trade"], "id": 2}
            ]
            await ws.send_json({"method": "SUBSCRIBE", "params": ["btcusdt@nonsense"], "id": 3})
            (error,) = await _frames(ws, 1)
            assert error["id"] == 3
            assert error["error"]["code"] == 2
            await ws.send_json({"method": "UNSUBSCRIBE", "params": ["btcusdt@bookTicker"], "id": 4})
            assert await _frames(ws, 1) == [{"result": None, "id": 4}]
            sim.sim.advance(1)
            (trade,) = await _frames(ws, 1)
            assert trade["e"] == "trade"
            assert trade["t"] == 0
        # a raw stream in the path subscribes at once
        async with session.ws_connect(sim.url.replace("http", "ws") + "/ws/btcusdt@trade") as ws:
            await subscribed(sim, "btcusdt@trade")
            sim.sim.advance(1)
            (trade,) = await _frames(ws, 1)
            assert trade["t"] == 1


async def test_stale_market_data_silences_the_market_streams():
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        pending = asyncio.create_task(exchange.watch_trades(SYMBOL))
        await subscribed(sim, "btcusdt@trade")
        await control(sim.url, "POST", "/_sim/faults", {"stale": True})
        await control(sim.url, "POST", "/_sim/advance", {"segments": 2})
        await asyncio.sleep(0.2)
        assert not pending.done()
        await control(sim.url, "POST", "/_sim/faults", {"stale": False})
        await control(sim.url, "POST", "/_sim/advance", {"segments": 1})
        trades = await asyncio.wait_for(pending, 3)
    assert [t["id"] for t in trades] == ["2"]
