"""``/backtests``: enqueue a backtest of a bot, follow it, read and export its result."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Response, status

from tradebot.auth.dependencies import CurrentClient
from tradebot.backtests.schemas import BacktestCreate, BacktestView, ExportFormat
from tradebot.backtests.service import BacktestService
from tradebot.kit.web import ContextDep, RowId

router = APIRouter(prefix="/backtests", tags=["backtests"])


def _service(context: ContextDep, user: CurrentClient) -> BacktestService:
    return BacktestService(context.sessions, user.scope(), user.actor)


Backtests = Annotated[BacktestService, Depends(_service)]


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def create_backtest(
    body: BacktestCreate, service: Backtests, background: BackgroundTasks
) -> BacktestView:
    """Record the job and run it after the response (poll ``GET /backtests/{id}``)."""
    job = await service.create(body)
    background.add_task(service.execute, job.id)
    return job


@router.get("")
async def list_backtests(
    service: Backtests, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[BacktestView]:
    return list(await service.list(limit))


@router.get("/{backtest_id}")
async def get_backtest(backtest_id: RowId, service: Backtests) -> BacktestView:
    return await service.get(backtest_id)


@router.get(
    "/{backtest_id}/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
)
async def export_backtest(
    backtest_id: RowId, service: Backtests, format: ExportFormat = ExportFormat.CSV
) -> Response:
    """The fills as CSV or the whole result as JSON (plans with backtest exports)."""
    media_type, body = await service.export(backtest_id, format)
    filename = f"backtest-{backtest_id}.{format.value}"
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
