"""Each stream fault, as ccxt.pro's binance client meets it: disconnects, a silent stall,
dropped, duplicated, late and reordered events (all switched on through ``/_sim``)."""

from __future__ import annotations

import asyncio
import json
import random
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
    until,
)
from tradebot.venues.exchange_sim.auth import sign

SYMBOL = "BTC/USDT"
TRADES = "btcusdt@trade"


async def _stream_faults(sim, *rules: dict) -> None:
    await control(sim.url, "POST", "/_sim/faults", {"streams": list(rules)})


async def _trade_ids(sim, exchange, segments: int, expect: int) -> list[int]:
    """Advance ``segments`` segments; the ids of the first ``expect`` public trades the client
    holds, in the order they arrived."""
    pending = asyncio.create_task(exchange.watch_trades(SYMBOL))
    await subscribed(sim, TRADES)
    await control(sim.url, "POST", "/_sim/advance", {"segments": segments})
    await asyncio.wait_for(pending, 3)
    await until(lambda: len(exchange.trades[SYMBOL]) >= expect)
    await asyncio.sleep(0.1)  # and no more than that
    return [int(t["id"]) for t in exchange.trades[SYMBOL]]


@pytest.mark.parametrize("abrupt", [False, True])
async def test_a_disconnect_fails_the_watch_and_the_next_watch_reconnects(abrupt):
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        await asyncio.wait_for(exchange.watch_ticker(SYMBOL), 3)
        pending = asyncio.create_task(exchange.watch_ticker(SYMBOL))
        await asyncio.sleep(0.02)
        closed = await control(
            sim.url, "POST", "/_sim/streams/disconnect", {"channel": "market", "abrupt": abrupt}
        )
        assert closed == {"closed": 1}
        with pytest.raises(ccxt.NetworkError):
            await asyncio.wait_for(pending, 3)
        again = await asyncio.wait_for(exchange.watch_ticker(SYMBOL), 3)
        assert again["last"] == (await exchange.fetch_ticker(SYMBOL))["last"]
        state = await control(sim.url, "GET", "/_sim/faults")
    assert state["streams"]["disconnects"] == 1


async def test_a_stream_kept_down_refuses_new_sockets_for_a_while():
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        await asyncio.wait_for(exchange.watch_ticker(SYMBOL), 3)
        await control(
            sim.url, "POST", "/_sim/streams/disconnect", {"channel": "market", "refuse_s": 0.5}
        )
        await asyncio.sleep(0.05)
        with pytest.raises(ccxt.NetworkError):
            await asyncio.wait_for(exchange.watch_ticker(SYMBOL), 3)
        await asyncio.sleep(0.5)
        again = await asyncio.wait_for(exchange.watch_ticker(SYMBOL), 3)
    assert again["last"] > 0


async def test_a_user_stream_disconnect_is_one_account_s_only():
    config = sim_config(accounts=[account(), account(OTHER_KEY, OTHER_SECRET)])
    async with (
        running_sim(config) as sim,
        ccxt_client(sim.url, streams=True) as mine,
        ccxt_client(sim.url, OTHER_KEY, OTHER_SECRET, streams=True) as theirs,
    ):
        my_watch = asyncio.create_task(mine.watch_orders(SYMBOL))
        their_watch = asyncio.create_task(theirs.watch_orders(SYMBOL))
        await subscribed(sim, api_key=KEY)
        await subscribed(sim, api_key=OTHER_KEY)
        await control(sim.url, "POST", "/_sim/streams/disconnect", {"api_key": KEY})
        with pytest.raises(ccxt.NetworkError):
            await asyncio.wait_for(my_watch, 3)
        assert not their_watch.done()
        placed = await theirs.create_order(SYMBOL, "market", "buy", 0.01)
        seen = await asyncio.wait_for(their_watch, 3)
    assert seen[0]["id"] == placed["id"]


async def test_a_silent_stall_keeps_the_socket_open_and_loses_what_happened_meanwhile():
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        pending = asyncio.create_task(exchange.watch_trades(SYMBOL))
        await subscribed(sim, TRADES)
        await _stream_faults(sim, {"kind": "stall", "channel": "market", "seconds": 0.5})
        await control(sim.url, "POST", "/_sim/advance", {"segments": 2})
        await asyncio.sleep(0.3)
        assert not pending.done(), "an event got through the stall"
        assert sim.sim.streams.listening(TRADES), "the socket was closed"
        await asyncio.sleep(0.3)  # the stall is over
        await control(sim.url, "POST", "/_sim/advance", {"segments": 1})
        trades = await asyncio.wait_for(pending, 3)
        state = await control(sim.url, "GET", "/_sim/faults")
    assert [t["id"] for t in trades] == ["2"]
    assert state["streams"]["fired"] == {"stall": 2}
    assert state["streams"]["rules"] == []


async def test_dropped_events_never_arrive():
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        await _stream_faults(sim, {"kind": "drop", "stream": TRADES, "count": 2})
        assert await _trade_ids(sim, exchange, 3, 1) == [2]


async def test_a_drop_with_a_probability_drops_the_seeded_events_without_end():
    draws = random.Random(3)
    kept = [i for i in range(12) if draws.random() >= 0.5]
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        rule = {"kind": "drop", "stream": TRADES, "probability": 0.5, "seed": 3}
        await _stream_faults(sim, rule)
        assert await _trade_ids(sim, exchange, 12, len(kept)) == kept
        (listed,) = (await control(sim.url, "GET", "/_sim/faults"))["streams"]["rules"]
    assert 0 < len(kept) < 12
    assert listed["count"] is None
    assert listed["fired"] == 12 - len(kept)


async def test_a_dropped_user_event_leaves_only_the_later_ones():
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        watching = asyncio.create_task(exchange.watch_orders(SYMBOL))
        await subscribed(sim, api_key=KEY)
        await _stream_faults(sim, {"kind": "drop", "channel": "user", "api_key": KEY})
        price = round((await exchange.fetch_ticker(SYMBOL))["last"] - 1000, 2)
        placed = await exchange.create_order(SYMBOL, "limit", "buy", 0.01, price)
        await asyncio.sleep(0.2)
        assert not watching.done(), "the NEW report was not dropped"
        await exchange.cancel_order(placed["id"], SYMBOL)
        (order,) = await asyncio.wait_for(watching, 3)
    assert order["status"] == "canceled"
    assert len(exchange.orders) == 1


async def test_duplicated_events_reach_the_client_twice():
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        await _stream_faults(sim, {"kind": "duplicate", "stream": TRADES, "count": 1})
        assert await _trade_ids(sim, exchange, 2, 3) == [0, 0, 1]


async def test_duplicated_user_events_arrive_twice_on_the_socket():
    # ccxt keeps one row per order and trade id, so the raw frames show the duplicates
    async with (
        running_sim() as sim,
        aiohttp.ClientSession() as session,
        session.ws_connect(sim.url.replace("http", "ws") + "/ws-api/v3") as ws,
    ):
        params = {"apiKey": KEY, "timestamp": int(time.time() * 1000)}
        signature = sign(SECRET, "&".join(f"{k}={v}" for k, v in sorted(params.items())))
        request = {"id": "1", "method": "userDataStream.subscribe.signature"}
        await ws.send_json({**request, "params": {**params, "signature": signature}})
        assert json.loads((await ws.receive(timeout=3)).data)["status"] == 200
        await _stream_faults(sim, {"kind": "duplicate", "channel": "user", "count": 2})
        async with ccxt_client(sim.url) as rest:
            await rest.create_order(SYMBOL, "market", "buy", 0.01)
        frames = [json.loads((await ws.receive(timeout=3)).data)["event"] for _ in range(5)]
    kinds = [(f["e"], f.get("x")) for f in frames]
    assert kinds == [
        ("executionReport", "NEW"),
        ("executionReport", "NEW"),
        ("executionReport", "TRADE"),
        ("executionReport", "TRADE"),
        ("outboundAccountPosition", None),
    ]
    assert frames[2] == frames[3]


async def test_a_late_event_arrives_after_a_newer_one():
    async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
        await _stream_faults(sim, {"kind": "delay", "stream": TRADES, "seconds": 0.3})
        assert await _trade_ids(sim, exchange, 2, 2) == [1, 0]


async def test_reordered_events_arrive_in_the_seeded_order():
    def expected(seed: int, n: int) -> list[int]:
        order = list(range(n))
        random.Random(seed).shuffle(order)
        return order if order != sorted(order) else order[::-1]

    orders = []
    for seed in (7, 7, 11):
        async with running_sim() as sim, ccxt_client(sim.url, streams=True) as exchange:
            await _stream_faults(
                sim, {"kind": "reorder", "stream": TRADES, "count": 4, "seed": seed}
            )
            orders.append(await _trade_ids(sim, exchange, 4, 4))
    assert orders[0] == orders[1] == expected(7, 4)
    assert orders[2] == expected(11, 4)
    assert all(o != [0, 1, 2, 3] and sorted(o) == [0, 1, 2, 3] for o in orders)


async def test_stream_faults_are_listed_and_cleared_with_the_others():
    async with running_sim() as sim:
        await _stream_faults(sim, {"kind": "duplicate", "channel": "user", "count": 2})
        listed = await control(sim.url, "GET", "/_sim/faults")
        assert [r["kind"] for r in listed["streams"]["rules"]] == ["duplicate"]
        cleared = await control(sim.url, "DELETE", "/_sim/faults")
        assert cleared["streams"]["rules"] == []
        with pytest.raises(AssertionError, match="400"):
            await _stream_faults(sim, {"kind": "stall"})  # no seconds
        with pytest.raises(AssertionError, match="400"):
            await _stream_faults(sim, {"kind": "reorder", "count": 1})
        with pytest.raises(AssertionError, match="400"):
            await _stream_faults(sim, {"kind": "stall", "seconds": 1, "probability": 0.5})
