"""The client's kill switch: one client-wide row in ``bot_guard_state`` stops every run.

Tripping it records the guard (``run_id`` empty), ends the runs no worker took yet, asks the
workers to stop the running ones, and refuses new runs until an operator resets it.
"""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncSession

from tradebot.clients.repository import AuditRepository
from tradebot.models.runs import RunStatus
from tradebot.runs.repository import GuardRepository, RunRepository
from tradebot.runs.schemas import GuardView, KillSwitchState, views
from tradebot.runs.service import RunService, after_commit, request_stop
from tradebot.runs.store import add_guard_row

KILL_SWITCH = "kill_switch"


class KillSwitchService(RunService):
    """Trips (customers) and shows the client's kill switch; operators reset it."""

    async def trip(self, reason: str) -> KillSwitchState:
        async with self.tx() as session:
            if not await GuardRepository(session, self.scope).client_wide(active_only=True):
                now_ms = int(time.time() * 1000)
                await add_guard_row(session, self.scope, KILL_SWITCH, reason, now_ms)
            live = (RunStatus.CREATED.value, RunStatus.RUNNING.value)
            runs = await RunRepository(session, self.scope).with_status(live)
            notify = [
                run.id
                for run in runs
                if await request_stop(
                    session, self.scope, run, self.actor, f"kill switch: {reason}"
                )
            ]
            await AuditRepository(session, self.scope).record(
                self.actor,
                "kill_switch_tripped",
                target=f"client {self.scope.client_id}",
                details={"reason": reason, "runs": [run.id for run in runs]},
            )
            state = await self._state(session)
        for run_id in notify:
            await after_commit(run_id, lambda run_id=run_id: self.queue.stop(run_id))  # type: ignore[misc]
        return state.model_copy(update={"runs_stopped": [run.id for run in runs]})

    async def state(self) -> KillSwitchState:
        async with self.tx() as session:
            return await self._state(session)

    async def _state(self, session: AsyncSession) -> KillSwitchState:
        rows = await GuardRepository(session, self.scope).client_wide(active_only=False)
        guards: list[GuardView] = views(rows, GuardView)
        return KillSwitchState(active=any(g.active for g in guards), guards=guards)
