"""SQL of one client's bots, always within the client's scope."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col

from tradebot.kit.repository import ScopedRepository
from tradebot.models.backtests import BacktestJob, JobStatus
from tradebot.models.bots import Bot
from tradebot.models.runs import BotRun, RunStatus

ACTIVE_RUN = (RunStatus.CREATED.value, RunStatus.RUNNING.value)
"""A run that is queued or trading: its bot's grid is in use."""


class BotRepository(ScopedRepository[Bot]):
    model = Bot
    noun = "bot"

    async def all(self) -> Sequence[Bot]:
        return await self.list(order_by=(Bot.created_at, Bot.id))


class BotRunRepository(ScopedRepository[BotRun]):
    """The client's runs as the bots domain sees them: which bot a run was started from."""

    model = BotRun
    noun = "run"

    async def active_of(self, bot_id: str) -> Sequence[BotRun]:
        """Runs of ``bot_id`` that are queued or running (the client's active runs, at most a
        plan's running bots, are read through the status index and filtered by their bot)."""
        rows = await self.list(BotRun.status.in_(ACTIVE_RUN))  # type: ignore[attr-defined]
        return [row for row in rows if row.config.get("bot_id") == bot_id]


class BotBacktestRepository(ScopedRepository[BacktestJob]):
    """The backtests of a bot: they go with it (their rows reference the bot)."""

    model = BacktestJob
    noun = "backtest"

    async def working_of(self, bot_id: str) -> Sequence[BacktestJob]:
        """Backtests of ``bot_id`` still queued or computing."""
        return await self.list(
            col(BacktestJob.bot_id) == bot_id,
            col(BacktestJob.status).in_((JobStatus.QUEUED.value, JobStatus.RUNNING.value)),
        )

    async def delete_of(self, bot_id: str) -> int:
        """Delete the finished backtests of ``bot_id``; returns how many."""
        result = await self.session.execute(self._delete().where(col(BacktestJob.bot_id) == bot_id))
        return int(getattr(result, "rowcount", 0) or 0)
