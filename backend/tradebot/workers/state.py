"""What one worker process holds: its settings, database pool, Redis, price feeds, account
streams and the runs it drives right now (each with the stop event its run loop watches)."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tradebot.config import Settings
from tradebot.kit.stall import LoopWatch
from tradebot.venues.account_streams import AccountStreams
from tradebot.workers.feed import MarketFeeds
from tradebot.workers.lease import Heartbeat
from tradebot.workers.reclaim import Presence

STATE: Final = "tradebot"
"""The key of the ``WorkerState`` in arq's ``ctx``."""


class StopCause(StrEnum):
    USER = "user"
    """The API's stop (arq's abort set, or a queued stop request)."""
    GUARD = "guard"
    """A guard of the run or the client's kill switch is tripped."""
    SHUTDOWN = "shutdown"
    """The worker is going away: the run is handed to another worker."""


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    sandbox_url: str | None = None
    """Runs trade on this local exchange simulator instead of the exchange (tests, demos)."""
    sandbox_step: bool = False
    lease_ms: int = 30_000
    watch_ms: int = 1_000
    """How often the runs' stop signals (abort set, stop requests, guards) are read."""
    max_jobs: int = 2_000
    shutdown_wait_s: int = 30
    db_pool_size: int = 20
    start_slots: int = 8
    """Paper runs that may be starting (loading, reconciling, placing a book) at once."""
    sweep: bool = True
    """Run the sweeper cron (``workers.sweeper``): it gives a job to every run of the database
    that has none. Off for a worker that must take only what its own queue hands it (tests
    sharing one database between many queues)."""


@dataclass(slots=True)
class RunHandle:
    """A run this worker drives: its job, the stop event its loop watches, and why it stops."""

    client_id: str
    run_id: str
    job_id: str
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    cause: StopCause | None = None
    reason: str | None = None
    edit_queued: bool = False
    """The watcher saw an edit of the run's grid queued (as of its last pass)."""
    wake: Callable[[], None] = lambda: None
    """Wakes the run if it sleeps on a shared feed (its job sets it): a stop or an edit of
    its grid is not left waiting for the run's next look by the clock (up to ten seconds, a
    client's kill switch included)."""

    def stop_reason(self) -> str | None:
        """What the run's row says once it stopped; None for a handover, which stops the run
        only for the next worker to resume it (``reopen`` finds it by the generic reason)."""
        return None if self.cause is StopCause.SHUTDOWN else self.reason

    def request_stop(self, cause: StopCause, reason: str) -> None:
        """Stop after the current tick; the first cause is the one recorded."""
        if self.cause is None:
            self.cause, self.reason = cause, reason
        self.stop.set()
        self.wake()

    def flag_edit(self, queued: bool) -> None:
        """Whether an edit of the run's grid is queued; a new one wakes the run."""
        new = queued and not self.edit_queued
        self.edit_queued = queued
        if new:
            self.wake()


class Streaks:
    """Transient failures in a row of the runs this worker tried last (their retry backoff),
    for the newest ``kept`` runs: a run that failed here and then ended, or went on on another
    worker, stayed for the worker's life. A run forgotten past them starts its backoff again
    (one quick retry more, at worst)."""

    def __init__(self, kept: int = 10_000) -> None:
        self.kept = kept
        self._streaks: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._streaks)

    def failed(self, run_id: str) -> int:
        """One more failure of ``run_id``; its streak now."""
        streak = self._streaks.pop(run_id, 0) + 1
        self._streaks[run_id] = streak  # the newest last: the oldest is dropped first
        if len(self._streaks) > self.kept:
            del self._streaks[next(iter(self._streaks))]
        return streak

    def clear(self, run_id: str) -> None:
        """``run_id`` started or ended: a new streak."""
        self._streaks.pop(run_id, None)


@dataclass(slots=True)
class WorkerState:
    settings: Settings
    options: WorkerOptions
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Any
    """arq's pool (``ArqRedis``)."""
    feeds: MarketFeeds
    accounts: AccountStreams
    """One user-data stream per exchange account for all the worker's live runs of it."""
    http: aiohttp.ClientSession | None = None
    """One HTTP connection pool for all the worker's exchange clients."""
    runs: dict[str, RunHandle] = field(default_factory=dict)
    failures: Streaks = field(default_factory=Streaks)
    worker_id: str = field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    )
    """``WORKER_NAME`` when set, else an id of this process alone."""
    presence: Presence | None = None
    """The named connection of a worker with a ``WORKER_NAME``."""
    shutting_down: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    loop: LoopWatch = field(default_factory=LoopWatch)
    """Logs (and counts) the times the worker's event loop is held."""
    starting: asyncio.Semaphore = field(init=False)
    heartbeat: Heartbeat = field(init=False)
    """Renews the leases of all the worker's runs together."""

    def __post_init__(self) -> None:
        self.starting = asyncio.Semaphore(self.options.start_slots)
        self.heartbeat = Heartbeat(self.redis, self.options.lease_ms)

    def shutdown(self) -> None:
        """Ask every run to stop after its tick, to be resumed by another worker."""
        self.shutting_down = True
        for handle in self.runs.values():
            handle.request_stop(StopCause.SHUTDOWN, "worker shutting down")
