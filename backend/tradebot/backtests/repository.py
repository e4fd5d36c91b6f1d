"""SQL of one client's backtest jobs."""

from __future__ import annotations

from collections.abc import Sequence

from tradebot.kit.repository import ScopedRepository
from tradebot.models.backtests import BacktestJob


class BacktestRepository(ScopedRepository[BacktestJob]):
    model = BacktestJob
    noun = "backtest"

    async def recent(self, limit: int) -> Sequence[BacktestJob]:
        query = self._select().order_by(BacktestJob.created_at.desc()).limit(limit)  # type: ignore[attr-defined]
        return (await self.session.execute(query)).scalars().all()
