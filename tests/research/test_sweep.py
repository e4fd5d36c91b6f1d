"""The sweep against the fast backtest (same compiled walk, same figures), its ranking, skips
and heatmap, on two days of the bundled real BTC/USDT week."""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pytest

from tests.factories import make_candles
from tradebot.candles.io import bundled, load_candles
from tradebot.candles.model import Candles
from tradebot.engine import core
from tradebot.engine.types import MarketRules, Spacing
from tradebot.errors import BadInputError, CandleDataError
from tradebot.research.backtest import run_backtest
from tradebot.research.sweep import SweepSpace, heatmap, run_sweep

FIGURES = (
    "total_pnl",
    "grid_profit",
    "sharpe",
    "max_drawdown",
    "round_trips",
    "fees_paid",
    "equity",
    "min_quote",
)


@cache
def two_days() -> Candles:
    return load_candles(bundled()).first_days(2)


@cache
def four_weeks() -> Candles:
    """The demo week four times over (40,320 candles): the sweep walks several candle blocks."""
    week = load_candles(bundled())
    repeat = 4
    return Candles(
        ts=week.ts[0] + np.arange(len(week) * repeat, dtype=np.int64) * week.timeframe_ms,
        open=np.tile(week.open, repeat),
        high=np.tile(week.high, repeat),
        low=np.tile(week.low, repeat),
        close=np.tile(week.close, repeat),
        volume=np.tile(week.volume, repeat),
        timeframe_ms=week.timeframe_ms,
        source="four weeks",
    )


def _space(**overrides: object) -> SweepSpace:
    values: dict[str, object] = {
        "lowers": (94000.0, 95500.0),
        "uppers": (99000.0, 101000.0),
        "lines": (8, 25),
        "spacings": (Spacing.ARITHMETIC, Spacing.GEOMETRIC),
        "investment": 1000.0,
        "maker_fee": 0.001,
        "taker_fee": 0.002,
    }
    values.update(overrides)
    return SweepSpace(**values)  # type: ignore[arg-type]


def _assert_matches_backtest(space: SweepSpace, candles: Candles) -> None:
    result = run_sweep(space, candles)
    for index, plan in enumerate(result.plans):
        single = run_backtest(plan, candles)
        for name in FIGURES:
            assert result.values(name)[index] == pytest.approx(
                getattr(single, name), rel=1e-9, abs=1e-12
            ), (plan.config, name)
        assert result.values("return_pct")[index] == pytest.approx(
            single.total_pnl / single.investment * 100, rel=1e-9, abs=1e-12
        )


def test_every_combination_equals_its_own_backtest():
    _assert_matches_backtest(_space(), two_days())


def test_take_profit_and_exchange_rounding_match_the_backtest_too():
    rules = MarketRules(tick_size=0.01, lot_step=0.00001, min_notional=5.0, min_qty=0.00001)
    _assert_matches_backtest(_space(take_profit=0.004, rules=rules), two_days())


@pytest.mark.parametrize("take_profit", [0.04, 0.06])
def test_grids_match_across_candle_blocks_and_take_profit_stops(take_profit):
    # With 8 and 25 lines these stop in the first block, in the second, or never.
    candles = four_weeks()
    assert len(candles) > 2 * core.SWEEP_BLOCK
    space = _space(
        lowers=(94000.0,),
        uppers=(101000.0,),
        lines=(8, 25),
        taker_fee=0.001,
        spacings=(Spacing.ARITHMETIC,),
        take_profit=take_profit,
    )
    _assert_matches_backtest(space, candles)


def test_ranking_puts_the_best_first_and_drawdown_lowest_first():
    result = run_sweep(_space(), two_days())
    pnl = [row["total_pnl"] for row in result.ranked_rows("total_pnl")]
    assert pnl == sorted(pnl, reverse=True)
    drawdowns = [row["max_drawdown"] for row in result.ranked_rows("max_drawdown")]
    assert drawdowns == sorted(drawdowns)
    top = result.ranked_rows("sharpe", 3)
    assert [row["rank"] for row in top] == [1, 2, 3]
    assert top[0]["sharpe"] == max(result.values("sharpe"))


def test_combinations_that_are_no_grid_are_skipped_and_counted():
    # 97000 >= 96000 and 97000 >= 97000 are no range; 400 lines over 94000-96000 are
    # 0.005% apart, far under the 0.2% that the maker fees take from each round trip.
    space = _space(
        lowers=(94000.0, 97000.0),
        uppers=(96000.0, 97000.0),
        lines=(5, 400),
        spacings=(Spacing.ARITHMETIC,),
    )
    result = run_sweep(space, two_days())
    assert space.size == 8
    assert result.skipped.lower_not_below_upper == 4
    assert result.skipped.refused == 2
    assert "too tight for the fees" in result.skipped.example
    assert [(p.config.lower, p.config.upper, p.config.lines) for p in result.plans] == [
        (94000.0, 96000.0, 5),
        (94000.0, 97000.0, 5),
    ]


def test_no_valid_combination_is_one_error_with_the_counts():
    space = _space(lowers=(99000.0,), uppers=(98000.0, 99000.0))
    with pytest.raises(
        BadInputError,
        match=r"none of the 8 combinations is a valid grid "
        r"\(lower >= upper: 8, refused by the plan: 0\)",
    ):
        run_sweep(space, two_days())


def test_no_candles_is_refused():
    empty = make_candles([(100, 101, 99, 100)]).slice(0, 0)
    with pytest.raises(CandleDataError, match="no candles"):
        run_sweep(_space(), empty)


def test_progress_is_reported_per_chunk_up_to_the_total():
    calls: list[tuple[int, int]] = []
    result = run_sweep(
        _space(lines=tuple(range(5, 45, 2))),
        two_days(),
        progress=lambda done, total: calls.append((done, total)),
    )
    total = len(result.plans)
    assert calls[0] == (0, total)
    assert calls[-1] == (total, total)
    assert len(calls) > 2
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_heatmap_keeps_the_best_value_over_the_other_parameters():
    result = run_sweep(_space(), two_days())
    grid = heatmap(result, "total_pnl", "lower", "upper")
    assert grid.x_values == [94000.0, 95500.0]
    assert grid.y_values == [99000.0, 101000.0]
    for (r, upper), (c, lower) in itertools.product(
        enumerate(grid.y_values), enumerate(grid.x_values)
    ):
        candidates = [
            result.values("total_pnl")[i]
            for i, plan in enumerate(result.plans)
            if plan.config.lower == lower and plan.config.upper == upper
        ]
        assert grid.z[r][c] == max(candidates)
        best = grid.best[r][c]
        assert best is not None
        assert result.values("total_pnl")[best] == max(candidates)


def test_heatmap_of_drawdown_keeps_the_lowest_and_leaves_empty_cells_blank():
    space = _space(lowers=(94000.0, 100000.0), uppers=(99000.0, 101000.0))
    result = run_sweep(space, two_days())
    grid = heatmap(result, "max_drawdown", "lower", "upper")
    assert grid.z[0][1] is None  # lower 100000 >= upper 99000: no grid there
    lowest = min(
        result.values("max_drawdown")[i]
        for i, p in enumerate(result.plans)
        if (p.config.lower, p.config.upper) == (94000.0, 101000.0)
    )
    assert grid.z[1][0] == lowest


def test_heatmap_axes_must_be_two_different_parameters():
    result = run_sweep(_space(lowers=(94000.0,), uppers=(99000.0,), lines=(8,)), two_days())
    with pytest.raises(BadInputError, match="axes must differ"):
        heatmap(result, "total_pnl", "lines", "lines")
    with pytest.raises(BadInputError, match="unknown heatmap axis 'fees'"):
        heatmap(result, "total_pnl", "fees", "lines")
