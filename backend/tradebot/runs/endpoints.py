"""Routes of runs and the kill switch: parse, authorise, call one service method."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from tradebot.auth.dependencies import CurrentClient
from tradebot.kit.web import ContextDep, RowId, app_port
from tradebot.runs.guards import KillSwitchService
from tradebot.runs.queue import RunQueue
from tradebot.runs.schemas import (
    EquityPoint,
    FillView,
    GridEdit,
    GridEditAccepted,
    GridEditPreview,
    GuardView,
    KillSwitch,
    KillSwitchState,
    OrderView,
    RunStart,
    RunStatusView,
    RunUpdates,
    RunView,
)
from tradebot.runs.service import RunService

runs = APIRouter(prefix="/runs", tags=["runs"])
kill_switch = APIRouter(prefix="/kill-switch", tags=["runs"])
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Cursor = Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")]
"""An ``updates`` cursor as the API gave it (digits: anything else was not ours)."""


# ``async def``: a plain ``def`` dependency would run in a worker thread (see ``kit.web``).
async def _queue(request: Request) -> RunQueue:
    queue: RunQueue = app_port(request, "run_queue")
    return queue


Queue = Annotated[RunQueue, Depends(_queue)]


async def _runs(context: ContextDep, user: CurrentClient, queue: Queue) -> RunService:
    return RunService(context.sessions, user.scope(), user.actor, queue)


async def _kill(context: ContextDep, user: CurrentClient, queue: Queue) -> KillSwitchService:
    return KillSwitchService(context.sessions, user.scope(), user.actor, queue)


Runs = Annotated[RunService, Depends(_runs)]
Kill = Annotated[KillSwitchService, Depends(_kill)]


@runs.post("", status_code=status.HTTP_202_ACCEPTED)
async def start_run(body: RunStart, service: Runs) -> RunView:
    """Queue a paper (or, on a paid plan after 7 days of paper, live) run of a bot."""
    return await service.start(body)


@runs.get("")
async def list_runs(service: Runs, limit: Limit = 100) -> list[RunView]:
    return await service.list(limit)


@runs.get("/{run_id}")
async def get_run(run_id: RowId, service: Runs) -> RunStatusView:
    return await service.status(run_id)


@runs.post("/{run_id}/stop", status_code=status.HTTP_202_ACCEPTED)
async def stop_run(run_id: RowId, service: Runs) -> RunView:
    return await service.stop(run_id)


@runs.get("/{run_id}/orders")
async def list_orders(
    run_id: RowId, service: Runs, limit: Limit = 500, offset: Offset = 0
) -> list[OrderView]:
    return list(await service.orders(run_id, limit, offset))


@runs.get("/{run_id}/fills")
async def list_fills(
    run_id: RowId, service: Runs, limit: Limit = 500, offset: Offset = 0
) -> list[FillView]:
    return list(await service.fills(run_id, limit, offset))


@runs.get("/{run_id}/equity")
async def equity_series(
    run_id: RowId, service: Runs, limit: Limit = 1000, offset: Offset = 0
) -> list[EquityPoint]:
    return list(await service.equity(run_id, limit, offset))


@runs.get("/{run_id}/updates")
async def run_updates(run_id: RowId, service: Runs, since: Cursor = None) -> RunUpdates:
    """What changed since the last poll: the run's status, the fills recorded after the
    ``since`` cursor (none: the latest), its working orders and guards, and the next cursor.
    The run page polls it every second."""
    return await service.updates(run_id, int(since) if since is not None else None)


@runs.post("/{run_id}/grid/preview")
async def preview_grid_edit(run_id: RowId, body: GridEdit, service: Runs) -> GridEditPreview:
    """What a new range and lines would do to the running grid: the orders cancelled and
    placed, the base bought at market, the capital change and the new plan. Nothing is saved."""
    return await service.preview_grid(run_id, body)


@runs.post("/{run_id}/grid", status_code=status.HTTP_202_ACCEPTED)
async def apply_grid_edit(run_id: RowId, body: GridEdit, service: Runs) -> GridEditAccepted:
    """Edit the running grid without stopping the run: the edit is recorded (audited) for the
    run's worker, which applies it at a tick as a regime re-centre moves a grid."""
    return await service.apply_grid(run_id, body)


@runs.get("/{run_id}/guards")
async def list_guards(run_id: RowId, service: Runs) -> list[GuardView]:
    return list(await service.guards(run_id))


@kill_switch.get("")
async def kill_switch_state(service: Kill) -> KillSwitchState:
    return await service.state()


@kill_switch.post("")
async def trip_kill_switch(body: KillSwitch, service: Kill) -> KillSwitchState:
    """Stop every run of the client and refuse new ones until an operator resets it."""
    return await service.trip(body.reason)
