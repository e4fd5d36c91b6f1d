"""Daily cron jobs over every client: the P&L summary and the end of trials.

**Daily P&L** goes to the client's audit trail (action ``daily_pnl``, target ``day
YYYY-MM-DD``): no new table, visible to the client and the operators through the audit routes,
and written once per client and day (a second pass of the cron, or of another worker, finds it
and skips). Figures are sums over the client's runs of their engine state (realised grid
profit, fees, equity, capital), the day's fill count, and the change of realised profit since
the previous summary.

**Trial expiry**: a client on the Trial plan whose 14 days are over keeps its data and can still
upgrade, but its paper runs stop (through the API's own stop path) and the trail gets one
``trial_expired`` entry. The plan itself is Stripe's to change; the entitlement checks already
refuse new bots and runs after the trial.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tradebot.admin.repository import AdminRepository
from tradebot.clients.plans import TRIAL_LENGTH, PlanName
from tradebot.clients.repository import AuditRepository
from tradebot.clients.schemas import ClientStatus
from tradebot.db import transaction
from tradebot.engine import core
from tradebot.kit.repository import ScopedRepository
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.models.clients import AuditLog, Client
from tradebot.models.runs import BotFill, RequestStatus, RunAction, RunMode, RunRequest, RunStatus
from tradebot.runs.queue import ArqRunQueue
from tradebot.runs.repository import RunRepository, RunRequestRepository
from tradebot.runs.service import after_commit, request_stop
from tradebot.workers.state import STATE, WorkerState

ACTOR = "worker"
TRIAL_ENDED = "trial ended: choose a plan to keep trading"
_SUMMED = {
    "realised": core.GRID_PROFIT,
    "fees": core.FEES,
    "equity": core.EQUITY,
    "investment": core.INVESTMENT,
    "round_trips": core.ROUND_TRIPS,
}


class _Trail(ScopedRepository[AuditLog]):
    model = AuditLog
    noun = "audit entry"

    async def latest(self, action: str, target: str | None = None) -> AuditLog | None:
        query = self._select().where(AuditLog.action == action)  # type: ignore[arg-type]
        if target is not None:
            query = query.where(AuditLog.target == target)  # type: ignore[arg-type]
        query = query.order_by(AuditLog.at.desc()).limit(1)  # type: ignore[attr-defined]
        return (await self.session.execute(query)).scalars().first()


class _Fills(ScopedRepository[BotFill]):
    model = BotFill
    noun = "fill"

    async def count_between(self, start_ms: int, end_ms: int) -> int:
        query = select(func.count()).where(
            self._in_scope(),
            BotFill.ts >= start_ms,  # type: ignore[arg-type]
            BotFill.ts < end_ms,  # type: ignore[arg-type]
        )
        return int(await self.session.scalar(query) or 0)


async def _stop_asked(session: AsyncSession, scope: ClientScope) -> set[str]:
    """Runs with a stop request no worker has handled yet (asking again adds nothing)."""
    rows = await RunRequestRepository(session, scope).list(
        RunRequest.action == RunAction.STOP.value,  # type: ignore[arg-type]
        RunRequest.status == RequestStatus.QUEUED.value,  # type: ignore[arg-type]
    )
    return {row.run_id for row in rows}


async def _clients(state: WorkerState) -> list[Client]:
    async with transaction(state.sessions) as session:
        return list(await AdminRepository(session).clients())


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


async def _summary(session: AsyncSession, scope: ClientScope, day: date) -> dict[str, Any]:
    runs = await RunRepository(session, scope).list()
    totals = dict.fromkeys(_SUMMED, 0.0)
    for run in runs:
        if len(run.state) >= core.STATE_SIZE:
            for name, slot in _SUMMED.items():
                totals[name] += float(run.state[slot])
    start = datetime.combine(day, time(), UTC)
    fills = await _Fills(session, scope).count_between(_ms(start), _ms(start + timedelta(days=1)))
    previous = await _Trail(session, scope).latest("daily_pnl")
    before = float(previous.details.get("realised", 0.0)) if previous is not None else 0.0
    return {
        "day": day.isoformat(),
        "runs": len(runs),
        "running": sum(r.status == RunStatus.RUNNING.value for r in runs),
        "fills": fills,
        **{name: round(value, 8) for name, value in totals.items()},
        "pnl": round(totals["equity"] - totals["investment"], 8),
        "realised_change": round(totals["realised"] - before, 8),
    }


async def summarise_day(state: WorkerState, day: date) -> int:
    """Write ``day``'s P&L summary of every client that has none yet; returns how many."""
    written = 0
    for client in await _clients(state):
        scope = ClientScope.of(client.id)
        async with client_transaction(state.sessions, scope) as session:
            target = f"day {day.isoformat()}"
            if await _Trail(session, scope).latest("daily_pnl", target) is not None:
                continue
            details = await _summary(session, scope, day)
            await AuditRepository(session, scope).record(ACTOR, "daily_pnl", target, details)
            written += 1
    return written


async def expire_trials(state: WorkerState, now: datetime) -> list[str]:
    """Stop the paper runs of clients whose trial is over; returns the runs asked to stop."""
    queue = ArqRunQueue(state.redis, state.settings.RUN_QUEUE_NAME)
    stopped: list[str] = []
    for client in await _clients(state):
        created = client.created_at.replace(tzinfo=client.created_at.tzinfo or UTC)
        ended = client.plan == PlanName.TRIAL.value and created + TRIAL_LENGTH <= now
        if not ended or client.status != ClientStatus.ACTIVE.value:
            continue
        scope = ClientScope.of(client.id)
        async with client_transaction(state.sessions, scope) as session:
            live = (RunStatus.CREATED.value, RunStatus.RUNNING.value)
            runs = await RunRepository(session, scope).with_status(live)
            asked = await _stop_asked(session, scope)
            paper = [r for r in runs if r.mode == RunMode.PAPER.value and r.id not in asked]
            notify = [
                run.id
                for run in paper
                if await request_stop(session, scope, run, ACTOR, TRIAL_ENDED)
            ]
            stopped += [run.id for run in paper]
            if await _Trail(session, scope).latest("trial_expired") is None:
                details = {"trial_ended": (created + TRIAL_LENGTH).isoformat()}
                await AuditRepository(session, scope).record(
                    ACTOR, "trial_expired", f"client {client.id}", details
                )
        for run_id in notify:
            await after_commit(run_id, lambda run_id=run_id: queue.stop(run_id))  # type: ignore[misc]
    return stopped


async def daily_pnl(ctx: dict[str, Any]) -> int:
    """arq cron (just after midnight UTC): yesterday's summary per client."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    return await summarise_day(ctx[STATE], yesterday)


async def trial_expiry(ctx: dict[str, Any]) -> list[str]:
    """arq cron (hourly): ``expire_trials`` now."""
    return await expire_trials(ctx[STATE], datetime.now(UTC))
