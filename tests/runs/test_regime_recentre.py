"""With REGIME_AUTO_ADJUST, a grid the ranging market has left is re-centred on it: logged as
regime_applied, stored as the run's grid (a restart trades the new one), and the run goes on
trading with its balances and profit carried over."""

from __future__ import annotations

from structlog.testing import capture_logs

from tradebot.candles.io import bundled, load_candles
from tradebot.config import load_settings
from tradebot.engine.plan import build_plan
from tradebot.engine.types import GridConfig
from tradebot.runs.paper_replay import run_paper_replay
from tradebot.runs.store import SqlRunStore


async def test_a_grid_left_behind_is_recentred_and_trades_again(sqlite_url, sessions_for):
    candles = load_candles(bundled()).first_days(2)  # BTC ranges about 95-98k
    plan = build_plan(GridConfig(lower=100_000, upper=104_000, lines=12, investment=3_000))
    settings = load_settings(
        RUN_ID="recentre",
        REGIME_AUTO_ADJUST=True,
        MAX_RUN_LOSS_USD=1e9,
        MAX_GLOBAL_DRAWDOWN_USD=1e9,
    )
    with capture_logs() as logs:
        replay = await run_paper_replay(plan, candles, settings, database_url=sqlite_url)
    assert replay.outcome.status == "finished", replay.outcome.reason
    applied = [e for e in logs if e["event"] == "regime_applied"]
    assert applied, [e["event"] for e in logs]
    first = applied[0]
    assert (first["old_lower"], first["old_upper"]) == (100_000, 104_000)
    assert first["lower"] < first["price"] < first["upper"]
    record = await SqlRunStore(sessions_for(sqlite_url), "default", "recentre").load_run()
    assert record is not None
    assert record.config["lower"] == applied[-1]["lower"]
    last = applied[-1]
    after = [f for f in replay.result.fills if f.ts > last["ts"] and not f.is_market]
    assert len(after) > 4  # the moved grid trades, on its own lines
    assert all(last["lower"] * 0.9999 <= f.price <= last["upper"] * 1.0001 for f in after)
    assert replay.result.round_trips > 0
