"""The rows a run job reads and writes about its run, in the run's tenant transactions: the run
itself, its requests from the API, and the hand-over between workers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tradebot.kit.clock import utcnow
from tradebot.kit.repository import ScopedRepository
from tradebot.models.runs import BotRun, RequestStatus, RunAction, RunRequest, RunStatus
from tradebot.runs.repository import RunRequestRepository
from tradebot.runs.run_transactions import RunTransactions
from tradebot.runtime.runner import STOP_REQUESTED

OVER = frozenset({RunStatus.STOPPED, RunStatus.TRIPPED, RunStatus.FINISHED, RunStatus.FAILED})


@dataclass(frozen=True, slots=True)
class RunTicket:
    """What a job needs to know about its run before it takes it."""

    mode: str
    exchange: str
    pair: str
    status: str
    config: dict[str, Any]
    stop_requested: bool

    @property
    def over(self) -> bool:
        return RunStatus(self.status) in OVER


class RunHandoverRepository(ScopedRepository[BotRun]):
    model = BotRun
    noun = "run"

    async def reopen(self, run_id: str) -> bool:
        """A run its worker stopped only to hand it over is running again (waiting for the
        next worker); a stop the API recorded meanwhile is left alone."""
        result = await self.session.execute(
            self._update()
            .where(
                BotRun.id == run_id,  # type: ignore[arg-type]
                BotRun.status == RunStatus.STOPPED.value,  # type: ignore[arg-type]
                BotRun.stop_reason == STOP_REQUESTED,  # type: ignore[arg-type]
            )
            .values(status=RunStatus.RUNNING.value, stop_reason=None, updated_at=utcnow())
        )
        return bool(getattr(result, "rowcount", 0))

    async def end(self, run_id: str, status: RunStatus, reason: str) -> None:
        await self.session.execute(
            self._update()
            .where(BotRun.id == run_id)  # type: ignore[arg-type]
            .values(status=status.value, stop_reason=reason[:500], updated_at=utcnow())
        )


class RunRows(RunTransactions):
    """One run's rows, each call one tenant transaction of the run's client."""

    async def ticket(self) -> RunTicket | None:
        async with self.transaction() as session:
            run = await RunHandoverRepository(session, self.scope).find(self.run_id)
            if run is None:
                return None
            stops = await self._requests(session, RunAction.STOP, RequestStatus.QUEUED)
            return RunTicket(
                run.mode, run.exchange, run.pair, run.status, dict(run.config), bool(stops)
            )

    async def _requests(
        self, session: AsyncSession, action: RunAction, status: RequestStatus
    ) -> list[RunRequest]:
        rows = await RunRequestRepository(session, self.scope).list(
            RunRequest.run_id == self.run_id,  # type: ignore[arg-type]
            RunRequest.action == action.value,  # type: ignore[arg-type]
            RunRequest.status == status.value,  # type: ignore[arg-type]
        )
        return list(rows)

    async def mark(self, action: RunAction, old: RequestStatus, new: RequestStatus) -> None:
        """Move the run's ``action`` requests from ``old`` to ``new``."""
        async with self.transaction() as session:
            for row in await self._requests(session, action, old):
                row.status, row.handled_at = new.value, utcnow()

    async def end(self, status: RunStatus | None = None, reason: str = "") -> None:
        """Write the run's end (``status`` None: the run loop wrote it) and settle its
        requests: the run is over."""
        async with self.transaction() as session:
            if status is not None:
                await RunHandoverRepository(session, self.scope).end(self.run_id, status, reason)
            settled = [
                *await self._requests(session, RunAction.START, RequestStatus.TAKEN),
                *await self._requests(session, RunAction.STOP, RequestStatus.QUEUED),
            ]
            for row in settled:
                row.status, row.handled_at = RequestStatus.DONE.value, utcnow()

    async def reopen(self) -> bool:
        async with self.transaction() as session:
            return await RunHandoverRepository(session, self.scope).reopen(self.run_id)
