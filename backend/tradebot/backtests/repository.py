"""SQL of one client's backtest jobs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col

from tradebot.kit.repository import ScopedRepository
from tradebot.models.backtests import BacktestJob, JobStatus


class BacktestRepository(ScopedRepository[BacktestJob]):
    model = BacktestJob
    noun = "backtest"

    async def recent(self, limit: int) -> Sequence[BacktestJob]:
        query = self._select().order_by(BacktestJob.created_at.desc()).limit(limit)  # type: ignore[attr-defined]
        return (await self.session.execute(query)).scalars().all()

    async def fail_unfinished(self, asked_before: datetime, error: str, now: datetime) -> None:
        """Jobs still queued or running that were asked for before ``asked_before`` fail with
        ``error`` (their upload dropped, as at any end)."""
        await self.session.execute(
            self._update()
            .where(
                col(BacktestJob.status).in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
                col(BacktestJob.created_at) < asked_before,
            )
            .values(
                status=JobStatus.FAILED.value,
                error=error,
                progress=1.0,
                finished_at=now,
                candles=None,
            )
        )
