"""The contract of grid-semantics.md on cases computed by hand, through the fast backtest."""

from __future__ import annotations

import pytest

from tests.factories import make_candles
from tradebot.engine.plan import build_plan
from tradebot.engine.types import GridConfig, Side, Spacing
from tradebot.research.backtest import run_backtest

WORKED = [(108, 112, 99, 101), (101, 121, 100.5, 115), (115, 116, 109, 112)]


def _run(rows, **config):
    defaults = {
        "lower": 100.0,
        "upper": 120.0,
        "lines": 3,
        "investment": 200.0,
        "maker_fee": 0.0,
        "taker_fee": 0.0,
    }
    plan = build_plan(GridConfig(**{**defaults, **config}))
    return run_backtest(plan, make_candles(rows))


def test_worked_example_gives_the_specs_results():
    result = _run(WORKED, maker_fee=0.001, taker_fee=0.002)
    assert result.round_trips == 2
    assert result.grid_profit == pytest.approx(18.6718181818, abs=1e-9)
    assert result.fees_paid == pytest.approx(0.6154545455, abs=1e-9)
    assert result.final_base == pytest.approx(0.9090909091, abs=1e-9)
    assert result.final_quote == pytest.approx(120.2936363636, abs=1e-9)
    assert result.equity == pytest.approx(222.1118181818, abs=1e-9)
    assert result.total_pnl == pytest.approx(22.1118181818, abs=1e-9)
    assert result.max_drawdown == pytest.approx(0.0283, abs=1e-9)
    assert result.buy_and_hold_pnl == pytest.approx(7.4074074074, abs=1e-9)


def test_worked_example_fills_in_the_specs_order():
    result = _run(WORKED, maker_fee=0.001, taker_fee=0.002)
    got = [(f.side, f.line, f.price, round(f.qty, 10)) for f in result.fills]
    assert got == [
        (Side.BUY, -1, 108.0, round(10 / 11, 10)),  # the start's market buy of B0
        (Side.BUY, 0, 100.0, 1.0),  # candle 1 falls through the buy at 100
        (Side.SELL, 1, 110.0, 1.0),  # candle 2: sells fill lowest first
        (Side.SELL, 2, 120.0, round(10 / 11, 10)),
        (Side.BUY, 1, 110.0, round(10 / 11, 10)),  # candle 3
    ]


def test_several_round_trips_inside_one_candle():
    # P0 = 108: empty line 110. Rising candle walks 108 -> 99 -> 121 -> 108: the buy at 100
    # fills, then the sells at 110 and 120, then the new buy at 110 on the way down to the close.
    result = _run([(108, 121, 99, 108)])
    assert result.round_trips == 2
    assert result.grid_profit == pytest.approx(10 + 10 / 11 * 10, rel=1e-12)
    assert result.final_base == pytest.approx(10 / 11, rel=1e-12)
    assert result.final_quote == pytest.approx(
        200 - 10 / 11 * 108 - 100 + 110 + 10 / 11 * 10, rel=1e-12
    )
    assert result.total_pnl == pytest.approx(result.grid_profit, rel=1e-12)


def test_a_counter_order_never_fills_on_the_segment_that_created_it():
    # The buy at 100 fills on the fall to 99; its sell at 110 must wait for the rise, and the
    # rise stops at 109, so nothing else fills.
    result = _run([(108, 109, 99, 108.5)])
    assert [(f.side, f.line) for f in result.fills[1:]] == [(Side.BUY, 0)]


def test_start_below_the_range_buys_base_for_every_sell():
    result = _run([(90, 115, 89, 115)], maker_fee=0.001, taker_fee=0.002)
    start = result.fills[0]
    assert start.line == -1
    assert start.qty == pytest.approx(1 + 10 / 11)  # sells at 110 (q0) and 120 (q1)
    assert start.fee == pytest.approx((1 + 10 / 11) * 90 * 0.002)
    assert result.round_trips == 1  # the sell at 110 fills on the rise to 115
    assert result.grid_profit == pytest.approx(110 * 0.999 - 100 * 1.001)


def test_start_above_the_range_buys_nothing_and_rests_every_buy():
    result = _run([(130, 131, 105, 106)], taker_fee=0.002)
    first = result.fills[0]
    assert first.side is Side.BUY
    assert first.line == 1  # the buy at 110
    assert all(not f.is_market for f in result.fills)
    assert result.final_base == pytest.approx(10 / 11)


def test_a_tie_between_two_lines_empties_the_lower():
    result = _run([(105, 105, 105, 105)])
    assert result.plan.empty_line_for(105.0) == 0
    assert result.fills[0].qty == pytest.approx(1 + 10 / 11)  # both lines above hold sells


def test_geometric_lines_and_sizes():
    result = _run([(250, 410, 250, 400)], upper=400.0, spacing=Spacing.GEOMETRIC)
    assert list(result.plan.prices) == pytest.approx([100.0, 200.0, 400.0])
    assert list(result.plan.qtys[:-1]) == pytest.approx([1.0, 0.5])
    # P0 = 250 -> empty line 200; the sell of q1 = 0.5 at 400 fills on the rise.
    assert result.round_trips == 1
    assert result.grid_profit == pytest.approx(0.5 * 400 - 0.5 * 200)


def test_an_order_crossed_by_the_jump_between_candles_fills_at_its_own_price():
    result = _run([(108, 109, 107, 108), (98, 99, 97, 98.5)], maker_fee=0.001)
    buy = result.fills[-1]
    assert (buy.side, buy.line, buy.price) == (Side.BUY, 0, 100.0)
    assert buy.ts > result.fills[0].ts


def test_take_profit_closes_the_grid_at_market():
    result = _run(
        [(108, 112, 99, 101), (101, 160, 100.5, 160)],
        upper=200.0,
        lines=5,
        take_profit=0.05,
        taker_fee=0.002,
    )
    assert result.stopped_by_take_profit
    assert result.final_base == pytest.approx(0.0, abs=1e-12)
    last = result.fills[-1]
    assert (last.side, last.line, last.price) == (Side.SELL, -1, 160.0)
