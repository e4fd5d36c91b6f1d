"""Properties of the grid over random candles: one empty line, and equity that moves only by
price, fills and fees."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings

from tests.strategies import candle_series, grids
from tradebot.engine.errors import GridPlanError
from tradebot.engine.plan import build_plan
from tradebot.engine.types import GridConfig, Side
from tradebot.research.backtest import run_backtest
from tradebot.research.summary import equity_from_fills


def _plan(config: GridConfig):
    try:
        return build_plan(config)
    except GridPlanError:
        assume(False)
        raise


@settings(max_examples=300, deadline=None)
@given(config=grids(), candles=candle_series())
def test_exactly_one_line_is_empty_after_every_fill(config, candles):
    plan = _plan(config)
    result = run_backtest(plan, candles)
    empty = plan.empty_line_for(float(candles.open[0]))
    resting = {i: Side.BUY for i in range(empty)} | {
        j: Side.SELL for j in range(empty + 1, plan.lines)
    }
    for fill in result.fills:
        if fill.is_market:
            continue
        # The filled order was resting on its line, on the side the book says.
        assert resting.pop(fill.line) is fill.side
        counter = fill.line + 1 if fill.side is Side.BUY else fill.line - 1
        assert counter not in resting  # its counter order goes on the one empty line
        resting[counter] = Side.SELL if fill.side is Side.BUY else Side.BUY
        assert len(resting) == plan.lines - 1
        assert sorted(resting) == [i for i in range(plan.lines) if i != fill.line]
        buys = [i for i, side in resting.items() if side is Side.BUY]
        sells = [i for i, side in resting.items() if side is Side.SELL]
        assert max(buys, default=-1) < fill.line < min(sells, default=plan.lines)


@settings(max_examples=300, deadline=None)
@given(config=grids(), candles=candle_series())
def test_equity_moves_only_by_price_fills_and_fees(config, candles):
    plan = _plan(config)
    result = run_backtest(plan, candles)
    buys = [f for f in result.fills if f.side is Side.BUY]
    sells = [f for f in result.fills if f.side is Side.SELL]
    fees = sum(f.fee for f in result.fills)
    quote = (
        config.investment
        - sum(f.price * f.qty for f in buys)
        + sum(f.price * f.qty for f in sells)
        - fees
    )
    scale = config.investment
    assert result.final_quote == pytest.approx(quote, rel=1e-9, abs=1e-9 * scale)
    base = sum(f.qty for f in buys) - sum(f.qty for f in sells)
    assert result.final_base == pytest.approx(base, rel=1e-9, abs=1e-12 * scale)
    assert result.fees_paid == pytest.approx(fees, rel=1e-9, abs=1e-12)
    rebuilt = equity_from_fills(candles, result.fills, config.investment)
    np.testing.assert_allclose(result.equity_curve, rebuilt, rtol=1e-9, atol=1e-9 * scale)
    # Between two closes with no fill, equity changes by base x price move exactly.
    closes = candles.close
    fill_candles = {int((f.ts - candles.ts[0]) // candles.timeframe_ms) for f in result.fills}
    for i in range(1, len(candles)):
        if i not in fill_candles:
            moved = result.equity_curve[i] - result.equity_curve[i - 1]
            assert moved == pytest.approx(
                _base_at(result, candles, i) * (closes[i] - closes[i - 1]), abs=1e-7 * scale
            )


def _base_at(result, candles, i):
    close_ts = candles.ts[i] + candles.timeframe_ms - 1
    return sum((f.qty if f.side is Side.BUY else -f.qty) for f in result.fills if f.ts <= close_ts)


@settings(max_examples=200, deadline=None)
@given(config=grids(), candles=candle_series())
def test_grid_profit_is_the_sum_of_its_round_trips(config, candles):
    plan = _plan(config)
    result = run_backtest(plan, candles)
    f = config.maker_fee
    expected = sum(
        s.qty * s.price * (1 - f) - s.qty * plan.prices[s.line - 1] * (1 + f)
        for s in result.fills
        if s.side is Side.SELL and not s.is_market
    )
    assert result.grid_profit == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert result.round_trips == sum(1 for s in result.fills if s.side is Side.SELL)
