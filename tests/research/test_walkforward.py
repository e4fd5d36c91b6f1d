"""Walk-forward stages on three days of the bundled real week: each window's results equal a
backtest of that window, and a stage's sweep picks the grid a brute-force search picks."""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tradebot.candles.io import bundled, load_candles
from tradebot.candles.model import DAY_MS, Candles
from tradebot.engine.plan import build_plan
from tradebot.engine.types import GridConfig, Spacing
from tradebot.research.backtest import run_backtest
from tradebot.research.walkforward import run_walkforward
from tradebot.research.walkforward_config import parse_config

DAY1 = 1_733_011_200_000  # 2024-12-01 00:00 UTC, the first candle of the demo week
BASE = {
    "GRID_LOWER": 94000,
    "GRID_UPPER": 100000,
    "GRID_STEPS": 12,
    "GRID_SPACING": "arithmetic",
    "GRID_INVESTMENT": 1000,
    "MAKER_FEE": 0.001,
    "TAKER_FEE": 0.001,
}


@cache
def three_days() -> Candles:
    return load_candles(bundled()).first_days(3)


def _config(stages: list[dict[str, Any]], **top: Any) -> Any:
    data = {"settings": BASE, "exact": True, "stages": stages, **top}
    return parse_config(data, source="test.json", base_dir=Path())


def _same(got: Any, want: Any) -> None:
    for name, value in want.spec_results().items():
        assert getattr(got, name) == pytest.approx(value, rel=1e-9, abs=1e-12), name
    assert got.sharpe == pytest.approx(want.sharpe, rel=1e-9, abs=1e-12)
    assert len(got.fills) == len(want.fills)


def test_two_stages_equal_backtests_of_their_windows():
    config = _config(
        [
            {
                "name": "fixed",
                "in_sample": {"start": "2024-12-01", "days": 1},
                "out_of_sample": {"days": 1},
            },
            {
                "name": "more lines, take profit",
                "in_sample": {"days": 1},
                "out_of_sample": {"end": "2024-12-04", "days": 1},
                "settings": {"GRID_STEPS": 20, "GRID_SPACING": "geometric", "TP": 1.5},
            },
        ]
    )
    candles = three_days()
    report = run_walkforward(config, candles)
    first, second = report.stages
    # Rolling: stage 2's in-sample ends where stage 1's out-of-sample ended.
    assert (first.in_window.start_ms, first.in_window.end_ms) == (DAY1, DAY1 + DAY_MS)
    assert (first.out_window.start_ms, first.out_window.end_ms) == (
        DAY1 + DAY_MS,
        DAY1 + 2 * DAY_MS,
    )
    assert (second.in_window.start_ms, second.out_window.end_ms) == (
        DAY1 + DAY_MS,
        DAY1 + 3 * DAY_MS,
    )
    plans = (
        build_plan(GridConfig(94000, 100000, 12, 1000, Spacing.ARITHMETIC, 0.001, 0.001)),
        build_plan(GridConfig(94000, 100000, 20, 1000, Spacing.GEOMETRIC, 0.001, 0.001, 0.015)),
    )
    for stage, plan, day in zip(report.stages, plans, (0, 1), strict=True):
        assert stage.plan.config == plan.config
        inside = candles.window(DAY1 + day * DAY_MS, DAY1 + (day + 1) * DAY_MS)
        outside = candles.window(DAY1 + (day + 1) * DAY_MS, DAY1 + (day + 2) * DAY_MS)
        assert len(inside) == len(outside) == 1440
        _same(stage.in_sample, run_backtest(plan, inside))
        _same(stage.out_of_sample, run_backtest(plan, outside))
    assert report.out_of_sample_pnl == pytest.approx(
        first.out_of_sample.total_pnl + second.out_of_sample.total_pnl
    )


def test_a_stage_sweep_trades_the_in_sample_winner_out_of_sample():
    lowers, uppers, lines = (94000.0, 95000.0), (99000.0, 101000.0), (6, 10)
    config = _config(
        [
            {
                "in_sample": {"start": "2024-12-01T00:00:00Z", "end": "2024-12-02T12:00:00Z"},
                "out_of_sample": {"days": 1.5},
                "sweep": {
                    "lower": list(lowers),
                    "upper": "99000:101000:2000",
                    "lines": [6, 10],
                    "spacing": "arithmetic,geometric",
                    "metric": "sharpe",
                },
            },
        ]
    )
    candles = three_days()
    inside = candles.window(DAY1, DAY1 + 36 * 3_600_000)
    outside = candles.window(DAY1 + 36 * 3_600_000, DAY1 + 3 * DAY_MS)
    # Brute force: a backtest per combination, the best Sharpe wins (ties: the first).
    best = None
    for lower, upper, n, spacing in itertools.product(lowers, uppers, lines, Spacing):
        plan = build_plan(GridConfig(lower, upper, n, 1000, spacing, 0.001, 0.001))
        sharpe = run_backtest(plan, inside).sharpe
        if best is None or sharpe > best[0]:
            best = (sharpe, plan)
    assert best is not None
    (stage,) = run_walkforward(config, candles).stages
    assert stage.plan.config == best[1].config
    _same(stage.in_sample, run_backtest(best[1], inside))
    _same(stage.out_of_sample, run_backtest(best[1], outside))
    data = stage.to_json()
    assert data["sweep"]["combinations"] == 16
    assert data["sweep"]["best"]["sharpe"] == pytest.approx(best[0], rel=1e-9)
    assert data["out_of_sample"]["candles"] == len(outside)


def test_stage_settings_layer_over_the_files_settings():
    config = _config(
        [
            {
                "in_sample": {"days": 1},
                "out_of_sample": {"days": 1},
                "settings": {"GRID_INVESTMENT": 500},
            }
        ]
    )
    (stage,) = run_walkforward(config, three_days()).stages
    assert (stage.plan.config.investment, stage.plan.config.lines) == (500, 12)


def test_pair_rounding_applies_unless_exact():
    stages = [{"in_sample": {"days": 1}, "out_of_sample": {"days": 1}}]
    rounded = run_walkforward(_config(stages, exact=False), three_days()).stages[0]
    assert rounded.plan.rules.lot_step > 0
    assert all(round(q, 5) == q for q in rounded.plan.qtys)
