"""Backtest jobs: recorded first, computed off the request, read back by id.

``create`` writes the job (``queued``) and returns; ``execute`` (a background task of the
request, a worker job later) runs the engine's fast backtest in a thread and stores the result
and the fills CSV. Exports are a plan feature (Pro and above), checked on the server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tradebot.backtests.candles import BUNDLED, job_candles
from tradebot.backtests.repository import BacktestRepository
from tradebot.backtests.schemas import (
    CHART_POINTS,
    BacktestCreate,
    BacktestEquityPoint,
    BacktestFill,
    BacktestView,
    ExportFormat,
)
from tradebot.billing.entitlements import require_exports, require_usable
from tradebot.billing.repository import EntitlementRepository
from tradebot.bots.repository import BotRepository
from tradebot.bots.schemas import GridSpec
from tradebot.bots.service import grid_plan
from tradebot.candles.model import Candles
from tradebot.engine.errors import GridPlanError
from tradebot.errors import ConflictError, TradeBotError
from tradebot.kit.clock import utcnow
from tradebot.kit.service import ClientService
from tradebot.models.backtests import BacktestJob, JobStatus
from tradebot.report.fills_csv import fills_csv_text
from tradebot.research.backtest import run_backtest
from tradebot.research.result import GridResult
from tradebot.research.sampling import sample_indices

log = logging.getLogger(__name__)
CUT_OFF_AFTER = timedelta(minutes=15)
"""A job still queued or running this long after it was asked for was cut off: the API process
that ran it (a background task of the request) stopped. The longest window runs in seconds."""
CUT_OFF = "interrupted: the server restarted while this backtest ran; run it again"
CHART = "chart"
"""The stored result's key of what the charts draw (the view's typed fields, not its figures)."""


def _plain(value: Any) -> Any:
    """JSON-safe copy (numpy scalars become Python numbers)."""
    return json.loads(
        json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v))
    )


def chart_of(result: GridResult, candles: Candles) -> dict[str, Any]:
    """The equity curve sampled to ``CHART_POINTS`` with buy & hold beside it, and the newest
    ``CHART_POINTS`` fills: what the portal draws, bounded whatever the backtest's length."""
    keep = sample_indices(result.equity_curve, CHART_POINTS)
    coins = result.investment / result.first_open
    curve = [
        {
            "ts": int(result.ts[i]),
            "equity": float(result.equity_curve[i]),
            "buy_and_hold": coins * float(candles.close[i]),
        }
        for i in keep
    ]
    fills = [
        {
            "ts": f.ts,
            "side": f.side.value,
            "line": f.line,
            "price": f.price,
            "qty": f.qty,
            "fee": f.fee,
        }
        for f in result.fills[-CHART_POINTS:]
    ]
    return {"equity_curve": curve, "fills": fills, "fills_total": len(result.fills)}


def job_view(row: BacktestJob, *, with_result: bool = False) -> BacktestView:
    stored = row.result if with_result else None
    figures = None if stored is None else {k: v for k, v in stored.items() if k != CHART}
    chart: dict[str, Any] = (stored or {}).get(CHART) or {}
    return BacktestView(
        id=row.id,
        bot_id=row.bot_id,
        status=row.status,
        progress=row.progress,
        candles=str(row.request.get("candles", BUNDLED)),
        error=row.error,
        created_at=row.created_at,
        finished_at=row.finished_at,
        result=figures,
        equity_curve=[BacktestEquityPoint.model_validate(p) for p in chart.get("equity_curve", [])]
        if chart
        else None,
        fills=[BacktestFill.model_validate(f) for f in chart.get("fills", [])] if chart else None,
        fills_total=chart.get("fills_total") if chart else None,
    )


class BacktestService(ClientService):
    async def create(self, body: BacktestCreate) -> BacktestView:
        async with self.tx() as session:
            require_usable(await EntitlementRepository(session, self.scope).facts(), utcnow())
            bot = await BotRepository(session, self.scope).get(body.bot_id)
            grid_plan(bot.pair, GridSpec.model_validate(bot.config))
            row = BacktestJob(
                id=uuid.uuid4().hex,
                client_id=self.scope.client_id,
                bot_id=bot.id,
                request={
                    "days": body.days,
                    "candles": BUNDLED if body.candles is None else "uploaded",
                },
                candles=body.candles,
            )
            await BacktestRepository(session, self.scope).add(row)
            return job_view(row)

    async def execute(self, job_id: str) -> None:
        """Run the job to ``done`` or ``failed`` (the error's one line is kept, never a trace)."""
        async with self.tx() as session:
            job = await BacktestRepository(session, self.scope).get(job_id)
            if job.status != JobStatus.QUEUED.value:
                return  # already taken: a job runs once
            bot = await BotRepository(session, self.scope).get(job.bot_id)
            job.status, job.progress = JobStatus.RUNNING.value, 0.1
            rows, days = job.candles, float(job.request["days"])
            pair, grid = bot.pair, GridSpec.model_validate(bot.config)
        try:
            result, chart = await asyncio.to_thread(self._compute, pair, grid, rows, days)
        except (TradeBotError, GridPlanError) as exc:
            await self._finish(job_id, error=str(exc))
            return
        except Exception:
            log.exception("backtest %s failed", job_id)
            await self._finish(job_id, error="internal error while running the backtest")
            return
        await self._finish(job_id, result=result, chart=chart)

    @staticmethod
    def _compute(
        pair: str, grid: GridSpec, rows: list[list[float]] | None, days: float
    ) -> tuple[GridResult, dict[str, Any]]:
        candles = job_candles(rows, days)
        result = run_backtest(grid_plan(pair, grid), candles)
        return result, chart_of(result, candles)

    async def _finish(
        self,
        job_id: str,
        *,
        result: GridResult | None = None,
        chart: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        async with self.tx() as session:
            job = await BacktestRepository(session, self.scope).get(job_id)
            job.finished_at, job.progress = utcnow(), 1.0
            job.candles = None  # the upload has served its purpose
            if result is None:
                job.status, job.error = JobStatus.FAILED.value, (error or "failed")[:500]
                return
            job.status = JobStatus.DONE.value
            job.result = _plain({**result.to_json(), CHART: chart})
            job.fills_csv = fills_csv_text(result.fills)

    async def get(self, job_id: str) -> BacktestView:
        async with self.tx() as session:
            jobs = await self._settled(session)
            return job_view(await jobs.get(job_id), with_result=True)

    async def list(self, limit: int) -> Sequence[BacktestView]:
        async with self.tx() as session:
            jobs = await self._settled(session)
            return [job_view(row) for row in await jobs.recent(limit)]

    async def _settled(self, session: AsyncSession) -> BacktestRepository:
        """The client's jobs, those an API restart cut off failed first: never "running" for
        ever in the portal."""
        jobs = BacktestRepository(session, self.scope)
        now = utcnow()
        await jobs.fail_unfinished(now - CUT_OFF_AFTER, CUT_OFF, now)
        return jobs

    async def export(self, job_id: str, format: ExportFormat) -> tuple[str, str]:
        """``(media type, body)`` of a finished job's export, if the plan includes exports."""
        async with self.tx() as session:
            row = await BacktestRepository(session, self.scope).get(job_id)
            require_exports(await EntitlementRepository(session, self.scope).facts())
        if row.status != JobStatus.DONE.value or row.result is None:
            raise ConflictError(f"backtest {job_id} is {row.status}: nothing to export yet")
        if format is ExportFormat.CSV:
            return "text/csv", row.fills_csv or ""
        return "application/json", json.dumps({k: v for k, v in row.result.items() if k != CHART})
