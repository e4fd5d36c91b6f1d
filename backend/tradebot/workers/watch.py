"""The worker's watcher: one loop that reads every run's signals: it sets a run's stop event,
and tells a run that its client queued an edit of its grid.

Per pass, one Redis command (arq's abort set, where the API's ``RunQueue.stop`` writes) and
one database read (stop and grid-edit requests recorded by the API, active guards and kill
switches) for all the runs of this worker, however many there are: a run does not ask the
database about edits at every tick. It also logs the ``worker_metrics`` line.
"""

from __future__ import annotations

import asyncio
import logging
import time

from arq.constants import abort_jobs_ss
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError

from tradebot.db import transaction
from tradebot.observability.logs import get_logger
from tradebot.workers.health import queue_depth
from tradebot.workers.queries import run_signals
from tradebot.workers.state import StopCause, WorkerState

log = get_logger(__name__)
METRICS_EVERY_S = 60.0


async def check_signals(state: WorkerState) -> None:
    """One pass: stop the runs that were asked to stop or whose guard is tripped; flag the runs
    with a grid edit queued."""
    handles = [h for h in state.runs.values() if not h.stop.is_set()]
    if not handles:
        return
    aborted = await state.redis.zmscore(abort_jobs_ss, [h.job_id for h in handles])
    async with transaction(state.sessions) as session:
        signals = await run_signals(session, [(h.client_id, h.run_id) for h in handles])
    for handle, abort in zip(handles, aborted, strict=True):
        handle.flag_edit(handle.run_id in signals.edits)
        guard = signals.guards.get(handle.run_id)
        if guard is not None:
            handle.request_stop(StopCause.GUARD, guard)
        elif abort is not None or handle.run_id in signals.requested:
            handle.request_stop(StopCause.USER, "stopped on request")


async def log_metrics(state: WorkerState) -> None:
    latency = state.feeds.samples.latency
    log.info(
        "worker_metrics",
        worker=state.worker_id,
        runs=len(state.runs),
        feeds=len(state.feeds),
        queue_depth=await queue_depth(state.redis, state.settings.RUN_QUEUE_NAME),
        ticks=latency.count,
        tick_to_decision_p50_ms=round(latency.percentile(0.5), 2),
        tick_to_decision_p99_ms=round(latency.percentile(0.99), 2),
    )


async def watch(state: WorkerState) -> None:
    """Run ``check_signals`` every ``watch_ms`` and the metrics line every minute, for ever."""
    next_metrics = time.monotonic() + METRICS_EVERY_S
    while True:
        await asyncio.sleep(state.options.watch_ms / 1000)
        try:
            await check_signals(state)
            if time.monotonic() >= next_metrics:
                next_metrics = time.monotonic() + METRICS_EVERY_S
                await log_metrics(state)
        except (RedisError, DBAPIError, OSError) as exc:
            log.warning("watch_failed", error=str(exc))
        except Exception:
            logging.getLogger(__name__).exception("watch pass failed")
