"""A run's first inventory snapshot is written at its first tick, not at its first candle close
or an interval later: a new run's P&L shows from its start (the portal showed "—" for a run's
first hour, and then, on live data, for its first minute)."""

from __future__ import annotations

import sqlite3

from tradebot.candles.io import bundled, load_candles
from tradebot.config import load_settings
from tradebot.engine.plan import build_plan
from tradebot.engine.types import GridConfig
from tradebot.runs.paper_replay import run_paper_replay

MINUTE_MS = 60_000


def _snapshots(sqlite_url: str, run_id: str) -> list[tuple[int, float, float]]:
    path = sqlite_url.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "select ts, equity, price from bot_inventory_snapshots where run_id = ? order by ts",
            (run_id,),
        ).fetchall()
    return [(int(ts), float(equity), float(price)) for ts, equity, price in rows]


async def test_a_run_shorter_than_an_hour_has_a_snapshot_from_its_first_tick(sqlite_url):
    candles = load_candles(bundled()).first_days(1)
    candles = candles.slice(0, 40)  # forty minutes: the hourly snapshot never comes
    plan = build_plan(GridConfig(lower=92_000, upper=101_000, lines=16, investment=3_000))
    settings = load_settings(RUN_ID="first-snap", MAX_RUN_LOSS_USD=1e9, MAX_GLOBAL_DRAWDOWN_USD=1e9)
    replay = await run_paper_replay(plan, candles, settings, database_url=sqlite_url)
    assert replay.outcome.status == "finished", replay.outcome.reason

    snapshots = _snapshots(sqlite_url, "first-snap")
    assert len(snapshots) == 2, snapshots  # the first tick's and the finish's
    (first_ts, first_equity, first_price), (last_ts, _, _) = snapshots
    start = int(replay.candles.ts[0])
    assert start <= first_ts < start + MINUTE_MS  # within the first candle, before its close
    assert last_ts >= start + 39 * MINUTE_MS
    assert float(replay.candles.low[0]) <= first_price <= float(replay.candles.high[0])
    # At its first tick the run holds what it was given: equity within fees of the investment.
    assert abs(first_equity - 3_000) < 3_000 * 0.005
