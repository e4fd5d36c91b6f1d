"""The job that drives one run: ``run_grid(ctx, client_id, run_id)``, job id ``run:{run_id}``.

The job takes the run's lease (no lease, no run: while another worker holds it, the job only
waits and looks again a lease's time later), then runs ``run_on_live_data`` (paper or live,
its prices from the worker's shared feed of the pair) with a stop event. The worker's watcher
sets that event on the API's stop, on a tripped guard or kill switch, and on shutdown; the run
loop then ends after its current tick, its orders resting for a restart to adopt (after a guard
or the kill switch, cancelled: nothing of the grid may fill after it). A lost lease cancels the run
outright, as a SIGKILL would (another worker may own it now: nothing more is written), and the
job looks again a lease's time later. Runs start a few at a time (``start_slots``): a run holds
its slot until it has decided on its first tick (loaded, reconciled, book placed), so a thousand
runs starting together do not queue on the database pool. How the run ended decides what is
recorded:

- stop or guard: the run is ``stopped`` with the reason; its stop requests are done;
- shutdown: the run is reopened (``running``) and the job retried at once by another worker,
  which resumes it through reconciliation;
- a transient failure (exchange, network, database, Redis): retried with backoff (a streak
  of this worker's, reset once the run decides on a tick; never before a Retry-After);
- anything else (bad configuration, a refused key, a tripped guard at start): ``failed`` or
  ``stopped`` with the one-line reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

import aiohttp
from arq import Retry
from asyncpg.exceptions import OperatorInterventionError, PostgresConnectionError
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from tradebot.errors import TradeBotError
from tradebot.models.runs import RequestStatus, RunAction, RunMode, RunStatus
from tradebot.observability.logs import bind_log_context
from tradebot.observability.metrics import LEASE_LOSSES
from tradebot.runs.live import LiveOptions, run_on_live_data
from tradebot.runtime.ports import VenueError
from tradebot.runtime.runner import RunBlockedError, RunOutcome
from tradebot.workers.lease import RunLease
from tradebot.workers.reclaim import held_key
from tradebot.workers.run_rows import RunRows, RunTicket
from tradebot.workers.run_settings import run_settings
from tradebot.workers.state import STATE, RunHandle, StopCause, WorkerState

log = logging.getLogger(__name__)
MAX_DEFER_S = 60
FIRST_DEFER_S = 0.5


def is_transient(exc: BaseException) -> bool:
    """Worth trying again later: the exchange, the network, the database or Redis failed."""
    if isinstance(exc, VenueError | TradeBotError):
        return exc.retryable  # e.g. the exchange did not answer the key re-check (yet)
    if isinstance(exc, PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        return (
            isinstance(exc, OperationalError)
            or exc.connection_invalidated
            or _database_unavailable(exc)
        )
    return isinstance(exc, RedisError | OSError | aiohttp.ClientError | asyncio.TimeoutError)


def _database_unavailable(exc: BaseException) -> bool:
    """PostgreSQL starting up, shutting down or gone (asyncpg's error, under SQLAlchemy's
    generic DBAPIError): it comes back, the job tries again."""
    cause: BaseException | None = exc
    for _ in range(5):  # SQLAlchemy wraps the driver's error in one or two of its own
        if cause is None:
            return False
        if isinstance(cause, OperatorInterventionError | PostgresConnectionError | OSError):
            return True
        cause = cause.__cause__
    return False


def retry_defer(exc: BaseException, streak: int) -> timedelta:
    """When to try again after the ``streak``-th transient failure in a row of a run on this
    worker: 0.5, 1, 2 ... s, at most a minute, never before the exchange's Retry-After. A
    streak, not arq's try count: that one grows with every hand-over of a run that lives for
    months, and a database restart would have kept a veteran run waiting a minute."""
    backoff = min(MAX_DEFER_S, FIRST_DEFER_S * 2 ** min(streak - 1, 7))
    return timedelta(seconds=max(backoff, getattr(exc, "retry_after", None) or 0.0))


async def _first_decision(task: asyncio.Task[RunOutcome], started: asyncio.Event) -> None:
    """Until the run has decided on its first tick (it is loaded, reconciled, its book placed),
    or has ended."""
    waiter = asyncio.create_task(started.wait())
    try:
        await asyncio.wait((task, waiter), return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()


async def run_grid(ctx: dict[str, Any], client_id: str, run_id: str) -> str:
    """arq job: drive ``run_id`` of ``client_id`` until it ends, stops or is handed over."""
    state: WorkerState = ctx[STATE]
    bind_log_context(client_id=client_id, run_id=run_id)  # this job's task and its children
    job = RunJob(state, client_id, run_id, str(ctx["job_id"]), int(ctx["score"]))
    return await job.execute()


class RunJob:
    def __init__(
        self, state: WorkerState, client_id: str, run_id: str, job_id: str, score: int
    ) -> None:
        self.state = state
        self.rows = RunRows(state.sessions, client_id, run_id)
        self.handle = RunHandle(client_id, run_id, job_id)
        self.lease = RunLease(
            state.redis,
            state.settings.REDIS_PREFIX,
            run_id,
            job_id,
            state.options.lease_ms,
            owner=state.worker_id,
            held=held_key(state.settings.REDIS_PREFIX, state.worker_id) if state.presence else None,
            queue=(state.settings.RUN_QUEUE_NAME, score),
        )
        self.lease_lost = False

    async def execute(self) -> str:
        run_id = self.handle.run_id
        leased = False
        try:
            await self.lease.note()
            ticket = await self.rows.ticket()
            if ticket is None:
                return f"run {run_id}: unknown"
            if ticket.over:
                return f"run {run_id}: already {ticket.status}"
            if ticket.stop_requested:
                await self.rows.end(RunStatus.STOPPED, "stopped before a worker took it")
                return f"run {run_id}: stopped"
            if self.state.shutting_down:
                raise Retry(defer=1)
            leased = await self.lease.acquire()
            if not leased:
                # Its holder is alive (and this job ran by mistake) or dead with a lease about
                # to expire: either way, look again once a lease's time has passed.
                raise Retry(defer=timedelta(milliseconds=self.lease.ttl_ms))
        except Exception as exc:
            if is_transient(exc):
                raise self._retry(exc) from exc
            raise
        finally:
            if not leased:
                with contextlib.suppress(RedisError, OSError):
                    await self.lease.forget()
        try:
            return await self._drive(ticket)
        finally:
            if not self.lease_lost:
                await self.lease.release()
            await self.lease.unpark()

    async def _drive(self, ticket: RunTicket) -> str:
        self.state.runs[self.handle.run_id] = self.handle
        try:
            await self.rows.mark(RunAction.START, RequestStatus.QUEUED, RequestStatus.TAKEN)
            outcome = await self._run(ticket)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not self.lease_lost or current is None or current.uncancel() > 0:
                raise  # arq's own cancel (a shutdown past its wait): arq retries the job
            # Nothing more was written; the job looks again once the lease could be free.
            raise Retry(defer=timedelta(milliseconds=self.lease.ttl_ms)) from None
        except RunBlockedError as exc:
            await self.rows.end(RunStatus.STOPPED, str(exc))
            return f"run {self.handle.run_id}: stopped ({exc})"
        except Exception as exc:
            if is_transient(exc):
                log.warning("run %s: transient failure, retrying: %s", self.handle.run_id, exc)
                raise self._retry(exc) from exc
            reason = str(exc) if isinstance(exc, TradeBotError) else "internal error"
            if not isinstance(exc, TradeBotError):
                log.exception("run %s failed", self.handle.run_id)
            await self.rows.end(RunStatus.FAILED, reason)
            return f"run {self.handle.run_id}: failed ({reason})"
        finally:
            self.state.runs.pop(self.handle.run_id, None)
        self.state.failures.clear(self.handle.run_id)
        return await self._settle(outcome)

    def _retry(self, exc: BaseException) -> Retry:
        return Retry(defer=retry_defer(exc, self.state.failures.failed(self.handle.run_id)))

    async def _run(self, ticket: RunTicket) -> RunOutcome:
        """The run loop, cancelled at once if the lease is lost."""
        settings = run_settings(self.state.settings, self.handle, ticket)
        options = self.state.options
        prices = None
        # Live runs share the pair's stream too; on a stepped sandbox a live run steps the
        # market itself (it holds the clock while unsure of its book).
        if ticket.mode == RunMode.PAPER.value or not options.sandbox_step:
            prices = self.state.feeds.subscribe(ticket.exchange, ticket.pair)
            self.handle.wake = prices.wake
        live = LiveOptions(
            sandbox_url=options.sandbox_url,
            sandbox_step=options.sandbox_step,
            stop=self.handle.stop,
            stop_reason=self.handle.stop_reason,
            prices=prices,
            sessions=self.state.sessions,
            edit_queued=lambda: self.handle.edit_queued,
            accounts=self.state.accounts,
            http=self.state.http,
        )
        job = asyncio.current_task()
        heartbeat = asyncio.create_task(
            self.state.heartbeat.hold(self.lease, lambda: self._lost(job))
        )
        try:
            if prices is None:
                return await run_on_live_data(settings, live)
            async with self.state.starting:
                task = asyncio.create_task(run_on_live_data(settings, live))
                try:
                    await _first_decision(task, prices.started)
                except asyncio.CancelledError:
                    task.cancel()
                    await asyncio.wait({task})
                    raise
            if prices.started.is_set():
                self.state.failures.clear(self.handle.run_id)  # it started: a new streak
            return await task
        finally:
            heartbeat.cancel()
            if prices is not None:
                await prices.close()

    def _lost(self, job: asyncio.Task[Any] | None) -> None:
        """The lease is gone: stop at once, wherever the run is (as a SIGKILL would)."""
        self.lease_lost = True
        LEASE_LOSSES.labels(self.handle.client_id).inc()
        if job is not None:
            job.cancel()

    async def _settle(self, outcome: RunOutcome) -> str:
        handle = self.handle
        if outcome.status != RunStatus.STOPPED.value or handle.cause is None:
            await self.rows.end()
            return f"run {handle.run_id}: {outcome.status} ({outcome.reason})"
        if handle.cause is StopCause.SHUTDOWN:
            if await self.rows.reopen():
                raise Retry(defer=0)  # after the lease is released: the next worker resumes it
            return f"run {handle.run_id}: stopped while handing over"
        reason = handle.reason or "stopped"
        await self.rows.end(RunStatus.STOPPED, reason)
        return f"run {handle.run_id}: stopped ({reason})"
