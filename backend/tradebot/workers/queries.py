"""Reads across clients for the worker's own bookkeeping (run signals, the sweeper).

The worker is an operator process: these statements run on the owner's connection with no
tenant set (``tradebot.db.transaction``), like ``tradebot.admin``'s. They only read, and only
what decides whether a run must stop or be handed to a worker; everything a run does to its
client's rows goes through tenant transactions.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, any_, bindparam, exists, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tradebot.models.runs import (
    BotGuardState,
    BotRun,
    RequestStatus,
    RunAction,
    RunRequest,
    RunStatus,
)


@dataclass(frozen=True, slots=True)
class RunSignals:
    guards: dict[str, str]
    """run id -> why a guard stops it (its own guard, or its client's kill switch)."""
    requested: frozenset[str]
    """Runs with a stop request not yet handled."""
    edits: frozenset[str] = frozenset()
    """Runs with an edit of their grid not yet taken."""


def _guard_name(guard: str) -> str:
    """A guard as a stop reason says it to the customer: ``kill switch``, ``max run loss``."""
    return guard.replace("_", " ")


def among(column: Any, name: str, values: Collection[str]) -> Any:
    """``column = ANY(:name)``, the values sent as one array: an ``IN`` of a thousand runs is a
    thousand parameters, and compiling them took the worker's loop tens of milliseconds every
    pass (the runs' decisions waited behind it)."""
    return column == any_(bindparam(name, list(values), type_=ARRAY(String)))


async def run_signals(session: AsyncSession, runs: Collection[tuple[str, str]]) -> RunSignals:
    """What the database asks of ``runs`` ((client id, run id) pairs): stop, or edit a grid."""
    run_ids = [run for _client, run in runs]
    clients = {client for client, _run in runs}
    rows = await session.execute(
        select(
            col(BotGuardState.client_id),
            col(BotGuardState.run_id),
            col(BotGuardState.guard),
            col(BotGuardState.reason),
        )
        .where(
            col(BotGuardState.active).is_(True),
            among(col(BotGuardState.client_id), "clients", clients),
            col(BotGuardState.run_id).is_(None) | among(col(BotGuardState.run_id), "runs", run_ids),
        )
        .order_by(col(BotGuardState.id))
    )
    by_client: dict[str, str] = {}
    by_run: dict[str, str] = {}
    for client, run, guard, reason in rows.all():
        target = by_client if run is None else by_run
        target.setdefault(client if run is None else run, f"{_guard_name(guard)}: {reason}")
    guards = {
        run: by_run.get(run) or by_client[client]
        for client, run in runs
        if run in by_run or client in by_client
    }
    queued = await session.execute(
        select(col(RunRequest.run_id), col(RunRequest.action)).where(
            among(col(RunRequest.run_id), "runs", run_ids),
            col(RunRequest.action).in_([RunAction.STOP.value, RunAction.GRID.value]),
            col(RunRequest.status) == RequestStatus.QUEUED.value,
        )
    )
    asked: dict[str, set[str]] = {RunAction.STOP.value: set(), RunAction.GRID.value: set()}
    for run, action in queued.all():
        asked[action].add(run)
    return RunSignals(
        guards, frozenset(asked[RunAction.STOP.value]), frozenset(asked[RunAction.GRID.value])
    )


async def runs_to_drive(session: AsyncSession, limit: int = 10_000) -> Sequence[tuple[str, str]]:
    """(client id, run id) of runs a worker should be driving: asked for through the API (a
    start request exists) and not over."""
    started = exists().where(
        col(RunRequest.run_id) == col(BotRun.id),
        col(RunRequest.action) == RunAction.START.value,
    )
    rows = await session.execute(
        select(col(BotRun.client_id), col(BotRun.id))
        .where(
            col(BotRun.status).in_([RunStatus.CREATED.value, RunStatus.RUNNING.value]),
            started,
        )
        .order_by(col(BotRun.created_at))
        .limit(limit)
    )
    return [(client, run) for client, run in rows.all()]
