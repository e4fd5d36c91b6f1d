"""The arq worker of TradeBot: its functions, cron jobs, start-up and shutdown.

``worker_settings(settings, options)`` is arq's ``WorkerSettings`` (as a mapping) and
``run_worker`` runs it the way ``tradebot worker`` does. Jobs and crons:

- ``run_grid(client_id, run_id)`` (job id ``run:{run_id}``, see ``bots.queue``): one run,
  for as long as it lasts; retried at once when handed over, with backoff on transient failures.
- ``reap_runs`` every 5 s and at start (runs without a job get one), ``trial_expiry`` hourly,
  ``daily_pnl`` at 00:05 UTC, ``key_recheck`` at 03:30 UTC.

SIGTERM / SIGINT: every run stops after its current tick and is handed to another worker
(lease released, job retried), then the process exits once its jobs are done (or after
``shutdown_wait_s``). arq's own abort-by-cancel is off: the API's abort set is read by the
watcher and honoured as a graceful stop instead.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from typing import Any

from arq.connections import RedisSettings
from arq.cron import cron
from arq.worker import Worker, create_worker, func

from tradebot.config import Settings
from tradebot.db import create_pooled_engine, session_factory
from tradebot.engine.warm import warm_engine
from tradebot.kit.heap import keep_heap, settle_heap
from tradebot.kit.loop import new_event_loop
from tradebot.migrations import migrated
from tradebot.notifications.service import MAX_ATTEMPTS
from tradebot.observability.metrics import start_metrics
from tradebot.runs.queue import RUN_JOB
from tradebot.venues.account_streams import AccountStreams
from tradebot.venues.ccxt_factory import shared_http
from tradebot.workers.daily import daily_pnl, trial_expiry
from tradebot.workers.feed import MarketFeeds
from tradebot.workers.fleet_metrics import keep_fleet_gauges
from tradebot.workers.health import HEALTH_CHECK_S
from tradebot.workers.key_recheck import key_recheck
from tradebot.workers.notifications import (
    SEND_JOB,
    daily_emails,
    send_notification,
    telegram_alerts,
    telegram_commands,
    transactional_mails,
)
from tradebot.workers.reclaim import Peers, present, reclaim
from tradebot.workers.run_job import run_grid
from tradebot.workers.sources import PublicPrices
from tradebot.workers.state import STATE, WorkerOptions, WorkerState
from tradebot.workers.sweeper import SWEEP_SECONDS, reap_runs
from tradebot.workers.watch import watch

RUN_TIMEOUT = timedelta(days=3650)
"""A run lasts until it is stopped: arq must never time it out."""
RUN_MAX_TRIES = 1_000_000
"""Every hand-over and retry is a try; a run is never given up on for having moved a lot."""
CRON_TIMEOUT_S = 900
SEND_TIMEOUT_S = 300
"""One notification attempt (its own SMTP timeout is shorter)."""


def worker_settings(settings: Settings, options: WorkerOptions) -> dict[str, Any]:
    """arq's worker settings for ``settings`` (queue, Redis) and ``options``."""

    async def startup(ctx: dict[str, Any]) -> None:
        # A connection that died fails its transaction: the run job retries that as transient.
        engine = create_pooled_engine(settings.database_url, options.db_pool_size)
        await migrated(engine, settings.database_url)
        feeds = MarketFeeds(
            lambda exchange, pair: PublicPrices(settings, options, exchange, pair),
            lockstep=options.sandbox_step,
        )
        sessions = session_factory(engine)
        accounts = AccountStreams()
        state = WorkerState(
            settings, options, engine, sessions, ctx["redis"], feeds, accounts, shared_http()
        )
        if settings.WORKER_NAME:
            state.worker_id = settings.WORKER_NAME
            state.presence = await present(
                settings.REDIS_URL, settings.WORKER_NAME, ctx["redis"], settings.REDIS_PREFIX
            )
            state.tasks.append(asyncio.create_task(state.presence.keep()))
            queue = settings.RUN_QUEUE_NAME
            await reclaim(ctx["redis"], state.presence, queue)
            peers = Peers(ctx["redis"], state.presence, queue)
            state.tasks.append(asyncio.create_task(peers.watch()))
        state.tasks.append(asyncio.create_task(watch(state)))
        start_metrics(settings.METRICS_PORT)
        state.tasks.append(asyncio.create_task(keep_fleet_gauges(state)))
        state.tasks.append(asyncio.create_task(keep_heap()))
        state.tasks.append(asyncio.create_task(state.loop.run()))
        ctx[STATE] = state
        warm_engine()  # before the first run: a kernel's compile holds every run's loop
        settle_heap()

    async def shutdown(ctx: dict[str, Any]) -> None:
        state: WorkerState | None = ctx.get(STATE)
        if state is None:
            return
        for task in state.tasks:
            task.cancel()
        if state.presence is not None:
            await state.presence.close()
        await state.accounts.close()
        if state.http is not None:  # after every client that borrowed it
            await state.http.close()
        await state.engine.dispose()

    return {
        "functions": [
            func(run_grid, name=RUN_JOB, timeout=RUN_TIMEOUT, max_tries=RUN_MAX_TRIES),
            func(send_notification, name=SEND_JOB, timeout=SEND_TIMEOUT_S, max_tries=MAX_ATTEMPTS),
        ],
        "cron_jobs": [
            *(
                [
                    # Also as it starts: a worker back after Redis lost every job (its own
                    # included) takes its runs at once, not at the next five-second mark.
                    cron(
                        reap_runs,
                        second=SWEEP_SECONDS,
                        unique=True,
                        timeout=CRON_TIMEOUT_S,
                        run_at_startup=True,
                    )
                ]
                if options.sweep
                else []
            ),
            cron(trial_expiry, minute={17}, second={0}, unique=True, timeout=CRON_TIMEOUT_S),
            cron(daily_pnl, hour={0}, minute={5}, second={0}, timeout=CRON_TIMEOUT_S),
            cron(key_recheck, hour={3}, minute={30}, second={0}, timeout=CRON_TIMEOUT_S),
            cron(daily_emails, hour={0}, minute={20}, second={0}, timeout=CRON_TIMEOUT_S),
            cron(telegram_commands, second={0}, unique=True, timeout=CRON_TIMEOUT_S),
            cron(telegram_alerts, second={30}, unique=True, timeout=CRON_TIMEOUT_S),
            cron(transactional_mails, second={45}, unique=True, timeout=CRON_TIMEOUT_S),
        ],
        "queue_name": settings.RUN_QUEUE_NAME,
        "redis_settings": RedisSettings.from_dsn(settings.REDIS_URL),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "max_jobs": options.max_jobs,
        "health_check_interval": HEALTH_CHECK_S,
        "allow_abort_jobs": False,
        "job_completion_wait": options.shutdown_wait_s,
    }


def graceful(worker: Worker) -> None:
    """SIGTERM / SIGINT: hand every run over after its tick, then let arq wind down."""

    def on_signal(signum: signal.Signals) -> None:
        state: WorkerState | None = worker.ctx.get(STATE)
        if state is not None:
            state.shutdown()
        worker.handle_sig_wait_for_completion(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        worker.loop.add_signal_handler(signum, on_signal, signum)


def run_worker(settings: Settings, options: WorkerOptions, *, burst: bool = False) -> Worker:
    """Run the worker in this process until a signal (or, with ``burst``, an empty queue)."""
    asyncio.set_event_loop(new_event_loop())  # arq runs on the loop it finds set
    worker = create_worker(worker_settings(settings, options), burst=burst)
    graceful(worker)
    worker.run()
    return worker
