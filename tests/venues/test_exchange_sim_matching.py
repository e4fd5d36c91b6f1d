"""A grid run against the simulator through ccxt fills exactly as the fast backtest says.

The test plays the grid client by the spec: the start's market buy, the resting orders, and
after every walked segment a counter order for each new fill. Its trades must equal the
backtest's fills for the same candles: same order, sides, prices, sizes, fees and times.
"""

from __future__ import annotations

import pytest

from tests.factories import make_candles
from tests.venues.sim_fixtures import (
    KEY,
    account,
    ccxt_client,
    control,
    exact_market,
    running_sim,
    sim_config,
)
from tradebot.engine.plan import build_plan
from tradebot.engine.types import GridConfig, Side, Spacing
from tradebot.research.backtest import run_backtest

# Lines 100, 125, 150, 175, 200; q = 10500 / p = 105, 84, 70, 60 (exact in decimal).
GRID = GridConfig(
    lower=100,
    upper=200,
    lines=5,
    investment=42_000,
    spacing=Spacing.ARITHMETIC,
    maker_fee=0.001,
    taker_fee=0.002,
)
SPARE_BTC = 10.0
CANDLES = make_candles(
    [
        (140, 145, 110, 120),  # falls: the buy at 125 fills; its sell at 150 must wait
        (120, 180, 95, 170),  # rises: 100 fills on the way down, then 125, 150, 175 sell
        (140, 160, 130, 155),  # the jump 170 -> 140 crossed the buy at 150: it fills at 150
        (155, 210, 150, 205),  # 175 and 200 sell
    ]
)


async def _grid_run(exchange, sim, plan) -> list[dict]:
    prices = plan.prices.tolist()
    qtys = plan.qtys.tolist()
    p0 = float(CANDLES.open[0])
    empty = min(range(len(prices)), key=lambda i: (abs(prices[i] - p0), i))
    start_qty = sum(qtys[j - 1] for j in range(empty + 1, len(prices)))
    await exchange.create_order(
        "BTC/USDT", "market", "buy", start_qty, None, {"clientOrderId": "start"}
    )
    seq = 0

    async def place(side: str, line: int, qty: float) -> None:
        nonlocal seq
        seq += 1
        params = {"clientOrderId": f"{side[0]}{line}-{seq}"}
        await exchange.create_order("BTC/USDT", "limit", side, qty, prices[line], params)

    for i in range(empty):
        await place("buy", i, qtys[i])
    for j in range(empty + 1, len(prices)):
        await place("sell", j, qtys[j - 1])
    seen = 1  # the start's trade
    while not sim.sim.market.done:
        await control(sim.url, "POST", "/_sim/advance", {"segments": 1})
        trades = await exchange.fetch_my_trades("BTC/USDT")
        for trade in trades[seen:]:
            line = prices.index(trade["price"])
            if trade["side"] == "buy":
                await place("sell", line + 1, qtys[line])
            else:
                await place("buy", line - 1, qtys[line - 1])
        seen = len(trades)
    return await exchange.fetch_my_trades("BTC/USDT")


async def test_a_grid_through_ccxt_fills_exactly_as_the_backtest():
    plan = build_plan(GRID)
    expected = run_backtest(plan, CANDLES).fills
    config = sim_config(
        CANDLES,
        # BTC beyond the grid's: the spec's sells of q_i need the base its buys' fees took.
        [account(usdt=100_000, btc=SPARE_BTC)],
        market=exact_market(maker_fee=0.001, taker_fee=0.002),
    )
    async with running_sim(config) as sim, ccxt_client(sim.url) as exchange:
        trades = await _grid_run(exchange, sim, plan)
        balance = await exchange.fetch_balance()
    got = [(t["side"], t["price"], t["amount"], t["timestamp"]) for t in trades]
    want = [(f.side.value, f.price, f.qty, f.ts) for f in expected]
    assert got == want
    # Binance charges the asset received: a buy's fee in BTC, a sell's in USDT; valued in quote
    # at the fill price, each is the spec's fee.
    assert [t["fee"]["currency"] for t in trades] == [
        "BTC" if t["side"] == "buy" else "USDT" for t in trades
    ]
    in_quote = [t["fee"]["cost"] * (t["price"] if t["side"] == "buy" else 1) for t in trades]
    assert in_quote == pytest.approx([f.fee for f in expected], abs=1e-6)
    assert len(got) == 9  # the start, then 8 grid fills
    assert sum(1 for f in expected if f.side is Side.SELL) == 5
    result = run_backtest(plan, CANDLES)
    base_fees = sum(t["fee"]["cost"] for t in trades if t["side"] == "buy")
    quote_of_base_fees = sum(f.fee for f in expected if f.side is Side.BUY)
    assert balance["BTC"]["total"] - SPARE_BTC == pytest.approx(
        result.final_base - base_fees, abs=1e-9
    )
    assert balance["USDT"]["total"] - 100_000 + GRID.investment == pytest.approx(
        result.final_quote + quote_of_base_fees, abs=1e-6
    )
    assert sim.sim.state()["accounts"][KEY]["duplicate_client_order_ids"] == {}


async def test_an_order_placed_between_segments_waits_for_a_later_segment():
    candles = make_candles([(100, 120, 90, 110)])  # walks 100 -> 90 -> 120 -> 110
    config = sim_config(candles, [account()], market=exact_market())
    async with running_sim(config) as sim, ccxt_client(sim.url) as exchange:
        await control(sim.url, "POST", "/_sim/advance", {"segments": 1})  # now at 90
        await exchange.create_order("BTC/USDT", "limit", "sell", 1, 95)  # below the price
        assert await exchange.fetch_my_trades("BTC/USDT") == []  # never on placement
        await control(sim.url, "POST", "/_sim/advance", {"segments": 1})  # rises to 120
        trades = await exchange.fetch_my_trades("BTC/USDT")
    assert [(t["side"], t["price"], t["timestamp"]) for t in trades] == [
        ("sell", 95, candles.ts[0] + 40_000)
    ]
