"""The fleet's kill switch: trip or reset one run, one client or every client, at once.

Everything goes through the guards' stored state (``bot_guard_state``), which the workers
watch and the run loop checks before it starts: a tripped run or client stays stopped through
any restart until it is reset here or by the admin API. A client's switch is the customers'
own (``runs.guards.KillSwitchService``: its runs are stopped, new ones refused); a run's is a
guard row of that run alone. Each trip and reset is in the client's ``audit_log`` with the
operator who did it and why.
"""

from __future__ import annotations

import time
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.admin.queries import OperatorQueries
from tradebot.admin.service import ClientAdmin
from tradebot.clients.repository import AuditRepository, ClientRepository
from tradebot.db import transaction
from tradebot.errors import BadInputError, NotFoundError
from tradebot.kit.clock import utcnow
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.models.runs import BotGuardState
from tradebot.runs.guards import KILL_SWITCH, KillSwitchService
from tradebot.runs.queue import RunQueue
from tradebot.runs.repository import GuardRepository, RunRepository
from tradebot.runs.service import after_commit, request_stop
from tradebot.runs.store import add_guard_row


class Reach(StrEnum):
    RUN = "run"
    CLIENT = "client"
    ALL = "all"


class SwitchOutcome(BaseModel):
    reach: Reach
    target: str | None
    clients: list[str]
    """The clients whose guards changed."""
    runs_stopped: list[str] = []
    guards_reset: int = 0


class FleetKillSwitch:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], queue: RunQueue) -> None:
        self.sessions = sessions
        self.queue = queue

    # ---- trip ---------------------------------------------------------------------------
    async def trip(
        self, reach: Reach, target: str | None, reason: str, actor: str
    ) -> SwitchOutcome:
        if reach is Reach.RUN:
            client_id, run_stopped = await self._trip_run(_required(target), reason, actor)
            return SwitchOutcome(
                reach=reach, target=target, clients=[client_id], runs_stopped=run_stopped
            )
        clients = [_required(target)] if reach is Reach.CLIENT else await self._clients()
        stopped: list[str] = []
        for client_id in clients:
            await self._require_client(client_id)
            switch = KillSwitchService(self.sessions, ClientScope.of(client_id), actor, self.queue)
            stopped += (await switch.trip(reason)).runs_stopped or []
        return SwitchOutcome(reach=reach, target=target, clients=clients, runs_stopped=stopped)

    async def _trip_run(self, run_id: str, reason: str, actor: str) -> tuple[str, list[str]]:
        client_id = await self._client_of(run_id)
        scope = ClientScope.of(client_id)
        async with client_transaction(self.sessions, scope) as session:
            run = await RunRepository(session, scope).locked(run_id)
            await add_guard_row(
                session, scope, KILL_SWITCH, reason, int(time.time() * 1000), run_id=run_id
            )
            notify = await request_stop(session, scope, run, actor, f"kill switch: {reason}")
            await AuditRepository(session, scope).record(
                actor, "kill_switch_tripped", target=f"run {run_id}", details={"reason": reason}
            )
        if notify:
            await after_commit(run_id, lambda: self.queue.stop(run_id))
        return client_id, [run_id]

    # ---- reset --------------------------------------------------------------------------
    async def reset(
        self, reach: Reach, target: str | None, reason: str, actor: str
    ) -> SwitchOutcome:
        """Clear the active guards of a run (its own), a client (all of its guards, its kill
        switch too) or every client. Runs stay stopped: their owners start them again."""
        run_id = _required(target) if reach is Reach.RUN else None
        if reach is Reach.RUN:
            clients = [await self._client_of(_required(target))]
        elif reach is Reach.CLIENT:
            clients = [_required(target)]
        else:
            clients = await self._clients()
        changed: list[str] = []
        count = 0
        for client_id in clients:
            cleared = await self._reset_client(client_id, run_id, reason, actor)
            if cleared or reach is not Reach.ALL:
                changed.append(client_id)
            count += cleared
        return SwitchOutcome(reach=reach, target=target, clients=changed, guards_reset=count)

    async def _reset_client(
        self, client_id: str, run_id: str | None, reason: str, actor: str
    ) -> int:
        scope = ClientScope.of(client_id)
        async with client_transaction(self.sessions, scope) as session:
            await ClientRepository(session, scope).own()
            where = [BotGuardState.active.is_(True)]  # type: ignore[attr-defined]
            if run_id is not None:
                where.append(BotGuardState.run_id == run_id)
            active = await GuardRepository(session, scope).list(*where)
            if not active and run_id is None:
                return 0  # nothing to reset: no audit entry for every quiet client
            for row in active:
                row.active, row.reset_at, row.reset_by = False, utcnow(), actor
            target = f"run {run_id}" if run_id is not None else f"client {client_id}"
            await AuditRepository(session, scope).record(
                actor,
                "guards_reset",
                target=target,
                details={"reason": reason, "guards": [row.id for row in active]},
            )
            return len(active)

    # ---- lookups ------------------------------------------------------------------------
    async def _client_of(self, run_id: str) -> str:
        async with transaction(self.sessions) as session:
            run = await OperatorQueries(session).run(run_id)
        if run is None:
            raise NotFoundError(f"run {run_id!r} not found")
        return run.client_id

    async def _require_client(self, client_id: str) -> None:
        scope = ClientScope.of(client_id)
        async with client_transaction(self.sessions, scope) as session:
            await ClientRepository(session, scope).own()

    async def _clients(self) -> list[str]:
        return [client.id for client in await ClientAdmin(self.sessions, "ops").list_clients()]


def _required(target: str | None) -> str:
    if not target:
        raise BadInputError("name the run or client (target) this applies to")
    return target
