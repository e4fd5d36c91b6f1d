"""A held run's job is parked out of arq's poll: arq keeps a running job in its queue, and a
worker with room for more checks every due entry twice a second (real Redis; a real worker's
run is seen parked in ``test_run_jobs``)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator

import pytest
from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis

from tradebot.config import Settings
from tradebot.runs.queue import run_job_id
from tradebot.workers.lease import RunLease


@pytest.fixture
async def redis(worker_env: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(worker_env.REDIS_URL)
    yield client
    await client.aclose()


def _now() -> int:
    return int(time.time() * 1000)


async def _due(redis: Redis, queue: str) -> list[bytes]:
    """What arq's poll reads: the queue's entries due now."""
    return list(await redis.zrangebyscore(queue, "-inf", _now()))


async def _score(redis: Redis, queue: str, job: str) -> float:
    score = await redis.zscore(queue, job)
    assert score is not None
    return float(score)


async def test_a_held_jobs_entry_is_parked_kept_parked_and_given_its_score_back(worker_env, redis):
    queue, run_id = worker_env.RUN_QUEUE_NAME, f"run-{secrets.token_hex(4)}"
    job, score = run_job_id(run_id), _now() - 5_000
    await redis.zadd(queue, {job: score})
    lease = RunLease(redis, worker_env.REDIS_PREFIX, run_id, job, 60_000, "w", queue=(queue, score))
    assert await lease.acquire()
    assert await _score(redis, queue, job) >= _now() + 100_000  # two lease times ahead
    assert job.encode() not in await _due(redis, queue)
    await redis.zadd(queue, {job: _now()}, xx=True)  # put first by a peer that raced the lease
    assert await lease.renew()
    assert job.encode() not in await _due(redis, queue)  # parked again at the next renewal
    await lease.release()
    await lease.unpark()
    # arq's retry adds its delay to the score the job started with: it must be that score.
    assert await _score(redis, queue, job) == score
    await redis.zrem(queue, job)


async def test_a_dead_holders_job_comes_due_when_arqs_marker_of_it_would_expire(worker_env, redis):
    queue, run_id = worker_env.RUN_QUEUE_NAME, f"run-{secrets.token_hex(4)}"
    job, ttl_ms = run_job_id(run_id), 300
    await redis.zadd(queue, {job: _now()})
    await redis.set(in_progress_key_prefix + job, b"1", px=60_000)
    lease = RunLease(redis, worker_env.REDIS_PREFIX, run_id, job, ttl_ms, "w", queue=(queue, 0))
    assert await lease.acquire()  # the marker now lives two lease times, as the parking does
    assert job.encode() not in await _due(redis, queue)
    await asyncio.sleep(2 * ttl_ms / 1000 + 0.2)  # the holder died: nothing renews
    assert not await redis.exists(in_progress_key_prefix + job)
    assert job.encode() in await _due(redis, queue)  # arq's next poll takes it, as before
    await redis.zrem(queue, job)
