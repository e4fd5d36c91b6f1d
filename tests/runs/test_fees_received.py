"""A live grid on an exchange that charges fees as Binance spot does, over a real week.

The simulator takes a buy's commission out of the BTC it delivers and a sell's out of the USDT.
The account holds nothing but the grid's investment, so a counter-sell that asked for base the
buys' fees took would be rejected (the run would stop on it). The grid must book what really
arrived and size its sells from it: its balances then equal the account's, and its P&L differs
from the paper replay's (fees in quote, the spec) only by what the fees taken in base change.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from tests.runs.live_fixtures import RULES, live_settings, run_stepped
from tests.venues.sim_fixtures import account, demo_week, sim_config
from tradebot.candles.model import Candles
from tradebot.db import transaction
from tradebot.engine import core
from tradebot.engine.orders import OrderStatus
from tradebot.engine.plan import build_plan
from tradebot.engine.strategy import GridStrategy
from tradebot.engine.types import FeeConvention, GridConfig, MarketRules, Side
from tradebot.models.runs import BotOrder
from tradebot.runs.paper_replay import run_paper_replay
from tradebot.runs.store import SqlRunStore
from tradebot.venues.exchange_sim import LimitsConfig, MarketConfig

MINUTES_PER_CANDLE = 15
"""The real week in 15-minute candles, replayed one a minute (the live path reads one-minute
candles): stepped one segment per poll through HTTP, 10,080 one-minute candles take half an
hour; 672 keep the week's path, highs and lows at a fifteenth of that."""
INVESTMENT = 2_000.0
FEE = 0.001
GRID: dict[str, object] = {
    "GRID_LOWER": 94_000.0,
    "GRID_UPPER": 103_000.0,
    "GRID_STEPS": 16,
    "GRID_INVESTMENT": INVESTMENT,
    "GRID_SPACING": "arithmetic",
    "MAKER_FEE": FEE,
    "TAKER_FEE": FEE,
}


@pytest.mark.slow
async def test_a_live_week_books_the_fees_binance_takes_from_what_it_delivers(
    pg_url, sessions, master_key
):
    candles = _coarser(demo_week(), MINUTES_PER_CANDLE)
    config = sim_config(
        candles,
        [account(usdt=INVESTMENT, btc=0.0)],
        market=MarketConfig(maker_fee=FEE, taker_fee=FEE),
        # Stepped a segment per poll, the week asks and orders faster than any IP or account
        # may: this test is about fees, not about 429s (a refused order would hide a rejection
        # for want of balance, which the test must see).
        limits=LimitsConfig(weight_limit=10**7, orders_per_10s=10**6),
    )
    settings, outcome, state = await run_stepped(sessions, pg_url, master_key, config, GRID)
    assert outcome.status == "finished", outcome.reason

    store = SqlRunStore(sessions, settings.CLIENT_ID, settings.RUN_ID)
    record = await store.load_run()
    assert record is not None
    grid = np.asarray(record.state, dtype=np.float64)
    held = state["balances"]
    account_base = held["BTC"]["free"] + held["BTC"]["locked"]
    account_quote = held["USDT"]["free"] + held["USDT"]["locked"]
    live_plan = build_plan(settings.grid_config(), RULES)

    fills = await store.fills()
    base_gap_lots = abs(float(grid[core.BASE]) - account_base) / RULES.lot_step

    # P&L against the paper replay of the same week, fees in quote. Both trade the same lines
    # at the same instants; what differs is only what the fees taken in base change:
    # - each buy of q at p gives up f*q BTC instead of f*q*p USDT: the same value at the fill,
    #   but held to the end it is worth f*q*last, so live is ahead by f*q*(p - last);
    # - each sell at line j offers s_j (q less its buy's fee, down to lot steps) instead of q:
    #   live keeps q - s_j BTC worth last, for which paper took p_j*(1-f):
    #   live is ahead by (q - s_j)*(last - p_j*(1-f));
    # - the entry's taker fee takes base too: the same two terms cover it.
    # So |live - paper| is at most the base the fees took or kept back, times how far the price
    # moved from where it traded: bounded by that base times the week's price range.
    paper = await run_paper_replay(
        build_plan(settings.grid_config(), RULES),
        candles,
        live_settings(settings.CLIENT_ID, master_key, **GRID, PAPER_MODE=True),
        database_url=pg_url,
    )
    assert paper.result.to_json()["fee_convention"] == FeeConvention.QUOTE_FEE.value
    assert outcome.fee_convention is FeeConvention.ASSET_RECEIVED
    live_grid_fills = [(f.ts, f.side, f.line) for f in fills if f.line >= 0]
    paper_grid_fills = [(f.ts, f.side, f.line) for f in paper.result.fills if f.line >= 0]
    last = float(candles.close[-1])
    live_pnl = account_quote + account_base * last - INVESTMENT
    base_apart = sum(
        f.fee / f.price if f.side is Side.BUY else live_plan.qtys[f.line - 1] - f.qty
        for f in fills
        if f.line >= 0
    )
    week_range = float(np.max(candles.high) - np.min(candles.low))
    bound = base_apart * week_range
    gap = live_pnl - paper.result.total_pnl
    print(
        f"\nfills {len(live_grid_fills)} live, {len(paper_grid_fills)} paper; "
        f"quote gap {float(grid[core.QUOTE]) - account_quote:.8f}; "
        f"base gap {base_gap_lots:.3f} lot steps; "
        f"P&L live {live_pnl:.4f} paper {paper.result.total_pnl:.4f} gap {gap:.4f} "
        f"bound {bound:.4f} (base apart {base_apart:.8f} BTC x range {week_range:.2f})"
    )
    # Every fill of the grid was paid for: no order was ever rejected for want of balance.
    assert sum(1 for f in fills if f.side is Side.SELL) >= 30
    assert all(f.fee_currency == ("BTC" if f.side is Side.BUY else "USDT") for f in fills)
    async with transaction(sessions) as session:
        statuses = (
            await session.execute(select(BotOrder.status).where(BotOrder.run_id == record.run_id))
        ).scalars()
        assert OrderStatus.REJECTED.value not in set(statuses)
    # The grid's balances are the account's: base to one lot step (the exchange keeps 8
    # decimals of each fee), quote to what the 8-decimal strings leave.
    assert base_gap_lots <= 1.0
    assert float(grid[core.QUOTE]) == pytest.approx(account_quote, abs=1e-4)
    # Both trade the same lines at the same instants, and differ in P&L within the bound.
    assert live_grid_fills == paper_grid_fills
    assert abs(gap) <= bound


# ---- the strategy's booking, without a venue ------------------------------------------------
# Lines 100, 110, 120, 130; q = 10 quote / price, in lot steps of 0.001 (0.1, 0.09, 0.083).
SMALL = GridConfig(lower=100, upper=130, lines=4, investment=30, maker_fee=FEE, taker_fee=FEE)
LOTS = MarketRules(lot_step=0.001, min_qty=0.001, min_notional=1.0)


def _strategy(price: float = 110) -> GridStrategy:
    strategy = GridStrategy(build_plan(SMALL, LOTS))
    strategy.begin(price)
    return strategy


def test_a_buy_whose_fee_came_out_of_its_base_books_the_base_that_arrived():
    strategy = _strategy()
    quote = float(strategy.state[core.QUOTE])
    strategy.on_fill(Side.BUY, 0, 100.0, 0.1, 0.0, fee_base=0.1 * FEE)
    snap = strategy.snapshot()
    assert snap.base == pytest.approx(0.1 * (1 - FEE))
    assert snap.quote == pytest.approx(quote - 10.0)  # the notional, and nothing more
    assert snap.fees == pytest.approx(0.01)  # counted once, valued at the fill price
    assert strategy.fee_convention is FeeConvention.ASSET_RECEIVED


def test_the_spec_books_the_whole_quantity_and_the_fee_in_quote():
    strategy = _strategy()
    quote = float(strategy.state[core.QUOTE])
    strategy.on_fill(Side.BUY, 0, 100.0, 0.1, 0.01)
    assert strategy.snapshot().base == pytest.approx(0.1)
    assert strategy.snapshot().quote == pytest.approx(quote - 10.01)
    assert strategy.fee_convention is FeeConvention.QUOTE_FEE


def test_a_fee_paid_in_bnb_leaves_the_pairs_balances_as_traded_and_counts_in_the_fees():
    strategy = _strategy()
    quote = float(strategy.state[core.QUOTE])
    strategy.on_fill(Side.BUY, 0, 100.0, 0.1, 0.0, fee_elsewhere=0.0075)
    strategy.on_fill(Side.SELL, 1, 110.0, 0.1, 0.0, fee_elsewhere=0.00825)
    snap = strategy.snapshot()
    assert snap.base == pytest.approx(0.0)
    assert snap.quote == pytest.approx(quote - 10.0 + 11.0)
    assert snap.fees == pytest.approx(0.0075 + 0.00825)
    # Grid profit stays net of the sell's fee, as the spec counts it (the buy's through the
    # line below's maker fee).
    assert snap.grid_profit == pytest.approx(11.0 - 0.00825 - 10.0 * (1 + FEE))
    assert strategy.fee_convention is FeeConvention.ASSET_RECEIVED
    # The base is whole: the sells keep the spec's sizes.
    assert [w.qty for w in strategy.wanted() if w.side is Side.SELL] == pytest.approx([0.09, 0.083])


def test_a_sells_fee_taken_out_of_the_base_costs_that_base_and_counts_once():
    strategy = _strategy()
    strategy.on_fill(Side.BUY, 0, 100.0, 0.1, 0.01)
    quote, base = float(strategy.state[core.QUOTE]), float(strategy.state[core.BASE])
    strategy.on_fill(Side.SELL, 1, 110.0, 0.1, 0.0, fee_base=0.1 * FEE)
    snap = strategy.snapshot()
    assert snap.base == pytest.approx(base - 0.1 * (1 + FEE))
    assert snap.quote == pytest.approx(quote + 11.0)
    assert snap.fees == pytest.approx(0.01 + 0.011)
    assert snap.grid_profit == pytest.approx(11.0 - 0.011 - 10.0 * (1 + FEE))


def test_sells_never_offer_more_base_than_the_grid_holds_and_the_farthest_takes_the_shortfall():
    strategy = _strategy()  # empty line 1: sells at 120 and 130
    needed = 0.09 + 0.083
    # Nothing says yet where this venue takes fees from: the start buys the spec's B0.
    assert strategy.base_shortfall() == pytest.approx(needed)
    strategy.on_market_fill(Side.BUY, 110.0, needed, 0.0, fee_base=needed * FEE)
    # What the fee took (0.000173 BTC, 0.02 USDT) is less than the exchange trades: nothing
    # is bought for it, and the farthest sell takes the shortfall in whole lots.
    assert strategy.base_shortfall() == 0
    sells = [(w.line, w.qty) for w in strategy.wanted() if w.side is Side.SELL]
    assert sells == [(2, 0.09), (3, 0.082)]
    strategy.on_fill(Side.BUY, 0, 100.0, 0.1, 0.0, fee_base=0.1 * FEE)  # 0.0999 arrives
    sells = [(w.line, w.qty) for w in strategy.wanted() if w.side is Side.SELL]
    held = float(strategy.state[core.BASE])
    assert [line for line, _ in sells] == [1, 2, 3]
    assert sells[:2] == [(1, 0.1), (2, 0.09)]  # the counter-sells about to trade keep q
    assert sells[2][1] == pytest.approx(0.082)  # the farthest: what is left, in whole lots
    assert sum(qty for _, qty in sells) <= held


def test_once_fees_come_out_of_the_base_a_top_up_is_grossed_up_for_its_own_fee():
    strategy = _strategy()
    strategy.on_market_fill(Side.BUY, 110.0, 0.05, 0.0, fee_base=0.05 * FEE)
    # Half the sells' base is missing: the buy for it loses its taker fee out of what arrives.
    missing = 0.09 + 0.083 - 0.05 * (1 - FEE)
    assert strategy.base_shortfall() == pytest.approx(missing / (1 - FEE))


def _coarser(candles: Candles, minutes: int) -> Candles:
    """``candles`` merged ``minutes`` at a time (first open, highest high, lowest low, last
    close), stamped a candle apart as the originals were."""
    n = len(candles) // minutes * minutes

    def grouped(values: np.ndarray) -> np.ndarray:
        return values[:n].reshape(-1, minutes)

    return Candles(
        ts=candles.ts[: n // minutes],
        open=grouped(candles.open)[:, 0],
        high=grouped(candles.high).max(axis=1),
        low=grouped(candles.low).min(axis=1),
        close=grouped(candles.close)[:, -1],
        volume=grouped(candles.volume).sum(axis=1),
        timeframe_ms=candles.timeframe_ms,
        source=candles.source,
    )
