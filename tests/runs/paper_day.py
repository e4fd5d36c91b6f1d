"""A paper run over real days of the bundled week, as the run-loop tests set it up: the grid,
settings whose loss guards never trip, and a fresh paper account on the exchange's side."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.candles.io import bundled, load_candles
from tradebot.candles.model import Candles
from tradebot.config import Settings, load_settings
from tradebot.engine.plan import GridPlan, build_plan
from tradebot.engine.types import GridConfig
from tradebot.models.runs import RunMode
from tradebot.runs.launcher import PreparedRun, grid_json, prepare_run
from tradebot.venues.matching import Balances, MatchingEngine


@dataclass(frozen=True)
class PaperDay:
    candles: Candles
    plan: GridPlan
    settings: Settings
    base_ts: int

    async def prepare(self, sessions: async_sessionmaker[AsyncSession]) -> PreparedRun:
        """The run's row on the day's grid, created (or found, on a restart)."""
        return await prepare_run(
            sessions,
            self.settings,
            self.plan,
            mode=RunMode.PAPER,
            base_ts=self.base_ts,
            config=grid_json(self.plan),
        )

    def account(self) -> MatchingEngine:
        """The exchange's account: the grid's investment in quote, the grid's fees."""
        config = self.plan.config
        return MatchingEngine(
            maker_fee=config.maker_fee,
            taker_fee=config.taker_fee,
            balances=Balances(quote_free=config.investment),
        )


def paper_day(run_id: str, days: int = 1) -> PaperDay:
    candles = load_candles(bundled()).first_days(days)
    plan = build_plan(GridConfig(lower=92_000, upper=101_000, lines=16, investment=3_000))
    settings = load_settings(RUN_ID=run_id, MAX_RUN_LOSS_USD=1e9, MAX_GLOBAL_DRAWDOWN_USD=1e9)
    return PaperDay(candles, plan, settings, int(candles.ts[0]))
