"""The sweeper cron: every run the API asked for and that is not over has a job, or gets one.

Jobs are at least once (issue #10, rule 9): the API records a start request before it enqueues,
and an enqueue can be lost (Redis down after the commit, or a Redis restart that lost every
key). Every ``SWEEP_EVERY_S`` this finds runs with a start request that are ``created`` or
``running``, no lease (no worker drives them) and no job in arq, and enqueues their job
through the API's own ``RunQueue`` (same job id: harmless if another sweeper or the API got
there first). A job whose worker died before its first heartbeat still carries arq's long
in-progress marker: it is cut to what a heartbeat sets (two lease times), so another worker
takes the job once it is clear nobody holds the run.
"""

from __future__ import annotations

from typing import Any, Final

from arq.constants import in_progress_key_prefix, job_key_prefix

from tradebot.db import transaction
from tradebot.observability.logs import get_logger
from tradebot.runs.queue import ArqRunQueue, run_job_id
from tradebot.workers.lease import lease_key
from tradebot.workers.queries import runs_to_drive
from tradebot.workers.state import STATE, WorkerState

log = get_logger(__name__)
SWEEP_EVERY_S: Final = 5
"""A run whose job was lost waits at most this for a new one (it was a minute: after a Redis
restart every run waited for it). A sweep is one indexed query and one Redis round trip."""
SWEEP_SECONDS: Final = set(range(0, 60, SWEEP_EVERY_S))


async def sweep_runs(state: WorkerState) -> int:
    """Enqueue the jobs of runs that have none; returns how many were enqueued."""
    async with transaction(state.sessions) as session:
        # Not the runs this worker drives: it holds their leases and jobs itself.
        runs = [run for run in await runs_to_drive(session) if run[1] not in state.runs]
    if not runs:
        return 0
    redis, ttl_ms = state.redis, state.options.lease_ms
    queue = ArqRunQueue(redis, state.settings.RUN_QUEUE_NAME)
    # Two MGETs, not a pipeline of two EXISTS a run: packing and parsing a thousand runs'
    # commands held the worker's loop 10 ms (every run's decision waited), two commands 2 ms.
    leases = await redis.mget([lease_key(state.settings.REDIS_PREFIX, r) for _c, r in runs])
    jobs = await redis.mget([job_key_prefix + run_job_id(r) for _c, r in runs])
    enqueued = 0
    for (client_id, run_id), lease, job in zip(runs, leases, jobs, strict=True):
        leased, queued = lease is not None, job is not None
        job_id = run_job_id(run_id)
        if leased:
            continue  # a worker drives it
        if queued:
            left = await redis.pttl(in_progress_key_prefix + job_id)
            if left > 2 * ttl_ms:
                await redis.pexpire(in_progress_key_prefix + job_id, 2 * ttl_ms)
            continue
        if await queue.start(client_id, run_id):
            enqueued += 1
            log.warning("run_job_reenqueued", client_id=client_id, run_id=run_id)
    return enqueued


async def reap_runs(ctx: dict[str, Any]) -> int:
    """arq cron: ``sweep_runs``."""
    return await sweep_runs(ctx[STATE])
