"""Partial fills (``SimConfig.fill_share``): a resting order takes at most its share of the
volume each crossing segment trades, so a big order fills in parts and PARTIALLY_FILLED reaches
the client by REST and by the user-data stream."""

from __future__ import annotations

import asyncio

import pytest

from tests.factories import make_candles
from tests.venues.sim_fixtures import (
    KEY,
    ccxt_client,
    control,
    exact_market,
    running_sim,
    sim_config,
    subscribed,
    until,
)

SYMBOL = "BTC/USDT"
# Every candle dips to 99 and rises to 101 once; volume 1 a candle, so 1/3 a segment: with a
# share of 0.3 a crossed order takes at most 0.1 a segment.
CANDLES = make_candles([(100, 101, 99, 100)] * 5)
QTY = 0.25


def _config(fill_share: float = 0.3):
    return sim_config(CANDLES, market=exact_market(), fill_share=fill_share)


@pytest.mark.parametrize(("side", "price"), [("buy", 99.5), ("sell", 100.5)])
async def test_a_resting_order_fills_in_parts_bounded_by_the_volume(side, price):
    async with running_sim(_config()) as sim, ccxt_client(sim.url) as exchange:
        placed = await exchange.create_order(SYMBOL, "limit", side, QTY, price)
        await control(sim.url, "POST", "/_sim/advance", {"candles": 1})
        part = await exchange.fetch_order(placed["id"], SYMBOL)
        (still_open,) = await exchange.fetch_open_orders(SYMBOL)
        assert part["info"]["status"] == "PARTIALLY_FILLED"
        assert part["status"] == "open"
        assert part["filled"] == pytest.approx(0.1)
        assert part["cost"] == pytest.approx(0.1 * price)
        assert still_open["id"] == placed["id"]
        await control(sim.url, "POST", "/_sim/advance", {"to_end": True})
        done = await exchange.fetch_order(placed["id"], SYMBOL)
        trades = await exchange.fetch_my_trades(SYMBOL)
        balance = await exchange.fetch_balance()
    assert done["info"]["status"] == "FILLED"
    assert done["filled"] == pytest.approx(QTY)
    assert [t["amount"] for t in trades] == pytest.approx([0.1, 0.1, 0.05])
    assert {t["order"] for t in trades} == {placed["id"]}
    assert all(t["price"] == price and t["takerOrMaker"] == "maker" for t in trades)
    # As on Binance spot, each part pays its commission in the asset it delivers: a buy's in
    # BTC, a sell's in USDT.
    buy = side == "buy"
    assert [t["fee"]["currency"] for t in trades] == ["BTC" if buy else "USDT"] * 3
    assert [t["fee"]["cost"] for t in trades] == pytest.approx(
        [q * 0.001 * (1 if buy else price) for q in (0.1, 0.1, 0.05)]
    )
    if buy:
        assert balance["BTC"]["total"] == pytest.approx(1 + QTY * (1 - 0.001))
        assert balance["USDT"]["total"] == pytest.approx(100_000 - price * QTY)
    else:
        assert balance["BTC"]["total"] == pytest.approx(1 - QTY)
        assert balance["USDT"]["total"] == pytest.approx(100_000 + price * QTY * (1 - 0.001))
    assert balance["USDT"]["used"] == pytest.approx(0, abs=1e-9)
    assert balance["BTC"]["used"] == pytest.approx(0, abs=1e-9)


async def test_partial_fills_reach_the_user_stream():
    async with running_sim(_config()) as sim, ccxt_client(sim.url, streams=True) as exchange:
        watching = asyncio.create_task(exchange.watch_orders(SYMBOL))
        await subscribed(sim, api_key=KEY)
        await exchange.create_order(SYMBOL, "limit", "buy", QTY, 99.5)
        reports = [(await asyncio.wait_for(watching, 3))[-1]["info"]]
        for _ in range(3):
            watching = asyncio.create_task(exchange.watch_orders(SYMBOL))
            await asyncio.sleep(0.02)
            await control(sim.url, "POST", "/_sim/advance", {"candles": 1})
            reports.append((await asyncio.wait_for(watching, 3))[-1]["info"])
    assert [(r["x"], r["X"]) for r in reports] == [
        ("NEW", "NEW"),
        ("TRADE", "PARTIALLY_FILLED"),
        ("TRADE", "PARTIALLY_FILLED"),
        ("TRADE", "FILLED"),
    ]
    assert [float(r["z"]) for r in reports] == pytest.approx([0, 0.1, 0.2, 0.25])
    assert [float(r["l"]) for r in reports] == pytest.approx([0, 0.1, 0.1, 0.05])


async def test_cancelling_a_part_filled_order_keeps_its_fills_and_frees_the_rest():
    async with running_sim(_config()) as sim, ccxt_client(sim.url) as exchange:
        placed = await exchange.create_order(SYMBOL, "limit", "buy", QTY, 99.5)
        await control(sim.url, "POST", "/_sim/advance", {"candles": 1})
        cancelled = await exchange.cancel_order(placed["id"], SYMBOL)
        balance = await exchange.fetch_balance()
    assert cancelled["status"] == "canceled"
    assert cancelled["filled"] == pytest.approx(0.1)
    assert balance["USDT"]["used"] == pytest.approx(0, abs=1e-9)
    # The buy locked its notional only (its fee comes out of the BTC it delivers).
    assert balance["USDT"]["free"] == pytest.approx(100_000 - 99.5 * 0.1)
    assert balance["BTC"]["free"] == pytest.approx(1 + 0.1 * (1 - 0.001))


async def test_without_a_fill_share_a_crossed_order_fills_whole():
    async with running_sim(_config(fill_share=0.0)) as sim, ccxt_client(sim.url) as exchange:
        placed = await exchange.create_order(SYMBOL, "limit", "buy", QTY, 99.5)
        await control(sim.url, "POST", "/_sim/advance", {"candles": 1})
        order = await exchange.fetch_order(placed["id"], SYMBOL)
        trades = await exchange.fetch_my_trades(SYMBOL)
    assert order["info"]["status"] == "FILLED"
    assert [t["amount"] for t in trades] == [QTY]


async def test_a_later_partial_fill_can_be_made_to_arrive_before_an_earlier_one():
    # Two candles make two fills, each reported as TRADE then the balances: four user events.
    # Reordered with seed 0 they arrive as [TRADE 2, TRADE 1, balances 1, balances 2].
    async with running_sim(_config()) as sim, ccxt_client(sim.url, streams=True) as exchange:
        watching = asyncio.create_task(exchange.watch_my_trades(SYMBOL))
        await subscribed(sim, api_key=KEY)
        await exchange.create_order(SYMBOL, "limit", "buy", QTY, 99.5)
        rule = {"kind": "reorder", "channel": "user", "count": 4, "seed": 0}
        await control(sim.url, "POST", "/_sim/faults", {"streams": [rule]})
        await control(sim.url, "POST", "/_sim/advance", {"candles": 2})
        await asyncio.wait_for(watching, 3)
        await until(lambda: len(exchange.myTrades) == 2)
        arrived = [(t["id"], float(t["info"]["z"])) for t in exchange.myTrades]
    assert arrived == [("2", pytest.approx(0.2)), ("1", pytest.approx(0.1))]
