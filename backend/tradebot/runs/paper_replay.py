"""Paper replay: real candles through the live run loop, a paper venue and the database.

Everything is checked before the run row is written (candles, plan, client), so bad input
leaves nothing behind. A replay killed part-way resumes from its stored clock and book.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from tradebot.candles.model import Candles
from tradebot.config import Settings
from tradebot.engine.plan import GridPlan
from tradebot.engine.types import Fill
from tradebot.models.runs import RunMode
from tradebot.research.result import GridResult
from tradebot.research.summary import equity_from_fills, summarize
from tradebot.runs.launcher import (
    database,
    grid_json,
    paper_account,
    prepare_run,
    runner_settings,
)
from tradebot.runtime.runner import GridRunner, RunOutcome
from tradebot.venues.paper import PaperVenue
from tradebot.venues.replay import replay_ticks


@dataclass(frozen=True, slots=True)
class PaperReplayResult:
    run_id: str
    outcome: RunOutcome
    result: GridResult
    candles: Candles


def shifted(candles: Candles, base_ts: int) -> Candles:
    """The candles on the replay clock: the first open at ``base_ts``."""
    return dataclasses.replace(candles, ts=candles.ts + (base_ts - int(candles.ts[0])))


async def run_paper_replay(
    plan: GridPlan, candles: Candles, settings: Settings, *, database_url: str | None = None
) -> PaperReplayResult:
    base_ts = settings.PAPER_MODE_BASE_TS
    base_ts = int(candles.ts[0]) if base_ts is None else base_ts
    async with database(database_url or settings.database_url) as sessions:
        run = await prepare_run(
            sessions,
            settings,
            plan,
            mode=RunMode.PAPER,
            base_ts=base_ts,
            config=grid_json(plan, candles=candles.source, candle_count=len(candles)),
        )
        venue = PaperVenue(
            await paper_account(run),
            replay_ticks(candles, base_ts, start_after=run.record.clock_ts if run.resumed else -1),
        )
        runner = GridRunner(
            run.record,
            run.strategy,
            venue,
            run.store,
            runner_settings(settings, paper=True),
        )
        outcome = await runner.run()
        fills = [Fill(f.ts, f.side, f.line, f.price, f.qty, f.fee) for f in await run.store.fills()]
    on_clock = shifted(candles, base_ts)
    equity = equity_from_fills(on_clock, fills, run.plan.config.investment)
    result = summarize(run.plan, on_clock, run.strategy.state, fills, equity)
    return PaperReplayResult(run.record.run_id, outcome, result, on_clock)
