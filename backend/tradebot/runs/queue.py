"""The ``RunQueue`` port: how the API hands a run to the workers, and its arq implementation.

Protocol with the workers (issue #5's arq ``WorkerSettings``):

- start: ``enqueue_job(RUN_JOB, client_id, run_id, _job_id=run_job_id(run_id))``. The job id
  is deterministic, so arq refuses a second job for a run that is queued or running.
- stop: the job id is added to arq's abort set (``arq.constants.abort_jobs_ss``); a worker with
  ``allow_abort_jobs=True`` cancels the job, and the run loop stops as on a kill switch.

Every request is first recorded in ``run_requests`` (status ``queued``) in the transaction that
creates or stops the run; the queue is called after that commit. If Redis is down, the request
stays ``queued`` in PostgreSQL for the workers' sweeper to enqueue: nothing is lost, and the job
key makes a repeated delivery harmless.
"""

from __future__ import annotations

import time
from typing import Final, Protocol

from arq.connections import ArqRedis
from arq.constants import abort_jobs_ss

RUN_JOB: Final = "run_grid"
"""The worker function that drives one run: ``run_grid(ctx, client_id, run_id)``."""


def run_job_id(run_id: str) -> str:
    return f"run:{run_id}"


class RunQueue(Protocol):
    async def start(self, client_id: str, run_id: str) -> bool:
        """Enqueue the run's job; ``False`` if a job with its id already exists."""
        ...

    async def stop(self, run_id: str) -> None:
        """Ask the worker running (or about to run) the run's job to abort it."""
        ...


class ArqRunQueue:
    """``RunQueue`` on arq's Redis queue."""

    def __init__(self, redis: ArqRedis, queue_name: str) -> None:
        self.redis = redis
        self.queue_name = queue_name

    async def start(self, client_id: str, run_id: str) -> bool:
        job = await self.redis.enqueue_job(
            RUN_JOB, client_id, run_id, _job_id=run_job_id(run_id), _queue_name=self.queue_name
        )
        return job is not None

    async def stop(self, run_id: str) -> None:
        await self.redis.zadd(abort_jobs_ss, {run_job_id(run_id): int(time.time() * 1000)})
