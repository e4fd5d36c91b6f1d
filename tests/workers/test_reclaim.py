"""A worker restarted under its name takes back the runs its dead boot held, and only then:
never while another live process of that name holds its connection (real Redis)."""

from __future__ import annotations

import secrets
import time

from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis

from tradebot.runs.queue import run_job_id
from tradebot.workers.lease import RunLease, lease_key
from tradebot.workers.reclaim import present, reclaim


async def test_leases_of_a_dead_boot_are_released_and_their_jobs_put_first(worker_env):
    redis = Redis.from_url(worker_env.REDIS_URL)
    prefix, queue = worker_env.REDIS_PREFIX, worker_env.RUN_QUEUE_NAME
    name = f"w-{secrets.token_hex(3)}"
    mine, theirs = f"run-{secrets.token_hex(4)}", f"run-{secrets.token_hex(4)}"
    try:
        dead = await present(worker_env.REDIS_URL, name)
        for run_id, owner in ((mine, name), (theirs, "other-worker")):
            job = run_job_id(run_id)
            assert await RunLease(redis, prefix, run_id, job, 60_000, owner).acquire()
            await redis.set(in_progress_key_prefix + job, b"1", px=120_000)
            await redis.zadd(queue, {job: int(time.time() * 1000) + 60_000})
        restarted = await present(worker_env.REDIS_URL, name)
        # The earlier boot still lives (a second process under the same name): nothing moves.
        assert await reclaim(redis, restarted, prefix, queue) == []
        assert await redis.exists(lease_key(prefix, mine))

        await dead.close()  # as the kernel closes the sockets of a SIGKILLed process
        assert await reclaim(redis, restarted, prefix, queue) == [mine]
        assert not await redis.exists(lease_key(prefix, mine))
        assert not await redis.exists(in_progress_key_prefix + run_job_id(mine))
        score = await redis.zscore(queue, run_job_id(mine))
        assert score is not None
        assert score <= time.time() * 1000  # due now
        # Another worker's run is not this worker's to take.
        assert await redis.exists(lease_key(prefix, theirs))
        assert await redis.exists(in_progress_key_prefix + run_job_id(theirs))
        await restarted.close()
    finally:
        await redis.aclose()
