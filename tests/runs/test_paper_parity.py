"""Paper replay (the live run loop + paper venue + database) against the fast backtest.

The spec requires the same fills, fees and P&L to 1e-9 relative on the same candles.
"""

from __future__ import annotations

import pytest

from tests.factories import make_candles
from tradebot.candles.io import bundled, load_candles
from tradebot.config import load_settings
from tradebot.engine.plan import build_plan
from tradebot.engine.types import GridConfig, Spacing
from tradebot.report.fills_csv import fills_csv_text
from tradebot.research.backtest import run_backtest
from tradebot.research.result import SPEC_RESULTS, GridResult
from tradebot.runs.paper_replay import run_paper_replay

WORKED = [(108, 112, 99, 101), (101, 121, 100.5, 115), (115, 116, 109, 112)]


def assert_same(paper: GridResult, backtest: GridResult) -> None:
    assert len(paper.fills) == len(backtest.fills)
    for got, want in zip(paper.fills, backtest.fills, strict=True):
        assert (got.ts, got.side, got.line) == (want.ts, want.side, want.line)
        assert got.price == pytest.approx(want.price, rel=1e-9)
        assert got.qty == pytest.approx(want.qty, rel=1e-9)
        assert got.fee == pytest.approx(want.fee, rel=1e-9)
    for name in SPEC_RESULTS:
        assert getattr(paper, name) == pytest.approx(
            getattr(backtest, name), rel=1e-9, abs=1e-12
        ), name
    assert paper.equity_curve == pytest.approx(backtest.equity_curve, rel=1e-9)


async def _paper(plan, candles, url, run_id):
    settings = load_settings(
        RUN_ID=run_id, CLIENT_ID="default", MAX_RUN_LOSS_USD=1e9, MAX_GLOBAL_DRAWDOWN_USD=1e9
    )
    return await run_paper_replay(plan, candles, settings, database_url=url)


async def test_worked_example_paper_equals_backtest(sqlite_url):
    plan = build_plan(
        GridConfig(lower=100, upper=120, lines=3, investment=200, maker_fee=0.001, taker_fee=0.002)
    )
    candles = make_candles(WORKED)
    replay = await _paper(plan, candles, sqlite_url, "worked")
    assert replay.outcome.status == "finished"
    assert_same(replay.result, run_backtest(plan, candles))
    assert replay.result.grid_profit == pytest.approx(18.6718181818, abs=1e-9)


@pytest.mark.parametrize(
    ("lower", "upper", "lines", "spacing"),
    [
        (94_000.0, 100_000.0, 21, Spacing.ARITHMETIC),  # dense grid, many round trips
        (90_000.0, 105_000.0, 15, Spacing.GEOMETRIC),
        (97_000.0, 104_000.0, 12, Spacing.GEOMETRIC),  # starts below the range
    ],
)
async def test_two_real_days_paper_equals_backtest(sqlite_url, lower, upper, lines, spacing):
    candles = load_candles(bundled()).first_days(2)
    plan = build_plan(
        GridConfig(
            lower=lower,
            upper=upper,
            lines=lines,
            investment=5_000,
            spacing=spacing,
            maker_fee=0.001,
            taker_fee=0.001,
        )
    )
    replay = await _paper(plan, candles, sqlite_url, f"real-{lines}")
    backtest = run_backtest(plan, candles)
    assert backtest.round_trips > 0
    assert_same(replay.result, backtest)


async def test_take_profit_stops_both_paths_alike(sqlite_url):
    candles = make_candles([(108, 112, 99, 101), (101, 160, 100.5, 160), (160, 161, 150, 155)])
    plan = build_plan(
        GridConfig(
            lower=100,
            upper=200,
            lines=5,
            investment=200,
            maker_fee=0.001,
            taker_fee=0.002,
            take_profit=0.05,
        )
    )
    replay = await _paper(plan, candles, sqlite_url, "tp")
    backtest = run_backtest(plan, candles)
    assert backtest.stopped_by_take_profit
    assert replay.outcome.reason == "take profit reached"
    assert_same(replay.result, backtest)


async def test_paper_replay_on_postgresql_equals_backtest(pg_url):
    candles = load_candles(bundled()).first_days(1)
    plan = build_plan(GridConfig(lower=95_000, upper=99_000, lines=21, investment=2_000))
    replay = await _paper(plan, candles, pg_url, "pg-parity")
    assert_same(replay.result, run_backtest(plan, candles))


async def test_two_paper_runs_write_byte_identical_fills(tmp_path):
    candles = load_candles(bundled()).first_days(1)
    plan = build_plan(GridConfig(lower=95_000, upper=99_000, lines=21, investment=2_000))
    texts = []
    for n in range(2):
        url = f"sqlite+aiosqlite:///{tmp_path / f'run{n}.db'}"
        replay = await _paper(plan, candles, url, f"identical-{n}")
        texts.append(fills_csv_text(replay.result.fills).encode())
    assert texts[0] == texts[1]
    assert texts[0].count(b"\n") > 10
