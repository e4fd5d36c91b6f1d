"""A held run's job is parked out of arq's poll: arq keeps a running job in its queue, and a
worker with room for more checks every due entry twice a second (real Redis, a real worker)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator

import pytest
from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.venues.sim_fixtures import account, running_sim, sim_config
from tests.workers.fixtures import (
    WINDOW,
    ask_for_run,
    enqueue,
    eventually,
    fills_of,
    in_process_worker,
    options,
    paper_client,
    run_row,
)
from tradebot.candles.io import bundled, load_candles
from tradebot.config import Settings
from tradebot.kit.scope import ClientScope
from tradebot.runs.queue import ArqRunQueue, run_job_id
from tradebot.runs.service import RunService
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


async def test_a_running_runs_job_is_out_of_arqs_poll_until_it_ends(worker_env, sessions, redis):
    candles = load_candles(bundled()).slice(WINDOW.start, WINDOW.start + 1200)
    config = sim_config(candles, [account(usdt=2_000.0, btc=0.0)])
    queue = worker_env.RUN_QUEUE_NAME
    async with running_sim(config) as sim:
        client = await paper_client(sessions)
        run_id = await ask_for_run(sessions, client)
        assert await enqueue(worker_env, client, run_id)
        async with in_process_worker(worker_env, options(sim.url)) as worker:
            await eventually(lambda: _trading(sessions, run_id), what="the run to trade")
            assert await _score(redis, queue, run_job_id(run_id)) > _now()
            assert await _due(redis, queue) == []
            queue_of = ArqRunQueue(worker.pool, queue)
            await RunService(sessions, ClientScope.of(client), "user", queue_of).stop(run_id)
            await eventually(lambda: _ended(sessions, run_id), what="the run to stop")
            await eventually(lambda: _gone(redis, queue, run_id), what="the job to finish")


Sessions = async_sessionmaker[AsyncSession]


async def _trading(sessions: Sessions, run_id: str) -> bool:
    return len(await fills_of(sessions, run_id)) >= 1


async def _ended(sessions: Sessions, run_id: str) -> bool:
    return (await run_row(sessions, run_id)).status == "stopped"


async def _gone(redis: Redis, queue: str, run_id: str) -> bool:
    return await redis.zscore(queue, run_job_id(run_id)) is None
