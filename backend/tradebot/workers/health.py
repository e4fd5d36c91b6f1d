"""Figures about the queue for operators and autoscalers: is a worker alive, how much waits.

Liveness is arq's own health-check key (``{queue}:health-check``), which every live worker of
the queue rewrites every ``HEALTH_CHECK_S`` with a time to live just above it: when it is gone,
no worker has polled the queue for that long. The queue depth counts the jobs that are due and
that no worker has taken: run jobs stay in arq's queue while they run (parked out of the due
range while their lease is held, ``workers.lease``), so they are not counted.
"""

from __future__ import annotations

from typing import Any, Final

from arq.constants import health_check_key_suffix, in_progress_key_prefix
from arq.utils import timestamp_ms

HEALTH_CHECK_S: Final = 10


def health_key(queue_name: str) -> str:
    return queue_name + health_check_key_suffix


async def health(redis: Any, queue_name: str) -> str | None:
    """The last health line a worker of the queue wrote, or None when none is alive."""
    value = await redis.get(health_key(queue_name))
    return None if value is None else value.decode() if isinstance(value, bytes) else str(value)


async def queue_depth(redis: Any, queue_name: str) -> int:
    """Jobs due now that no worker has taken yet (what more workers would pick up)."""
    # arq's clock (its milliseconds rounded): truncated, a job enqueued within the last half
    # millisecond was not due yet, and the count came one short.
    due = await redis.zrangebyscore(queue_name, "-inf", timestamp_ms())
    if not due:
        return 0
    async with redis.pipeline(transaction=False) as pipe:
        for job_id in due:
            pipe.exists(in_progress_key_prefix + job_id.decode())
        taken = await pipe.execute()
    return sum(1 for flag in taken if not flag)
