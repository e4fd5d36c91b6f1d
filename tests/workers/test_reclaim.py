"""The runs of a dead named worker are taken at once: back by the worker restarted under its
name (never while another live process of that name holds its connection), or by a live peer
once both its signs of life are gone (real Redis)."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator

import pytest
from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis

from tradebot.config import Settings
from tradebot.runs.queue import run_job_id
from tradebot.workers.lease import RunLease, lease_key
from tradebot.workers.reclaim import ALIVE_MS, STALE_MS, Peers, held_key, present, reclaim


@pytest.fixture
async def redis(worker_env: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(worker_env.REDIS_URL)
    yield client
    await client.aclose()


async def _leased(redis: Redis, env: Settings, run_id: str, owner: str, named: bool) -> None:
    """``owner`` holds the run's lease (long, as in production) and arq's marker of its job."""
    prefix, job = env.REDIS_PREFIX, run_job_id(run_id)
    held = held_key(prefix, owner) if named else None
    await redis.zadd(env.RUN_QUEUE_NAME, {job: int(time.time() * 1000)})
    await redis.set(in_progress_key_prefix + job, b"1", px=120_000)
    queue = (env.RUN_QUEUE_NAME, int(time.time() * 1000))
    lease = RunLease(redis, prefix, run_id, job, 60_000, owner, held=held, queue=queue)
    assert await lease.acquire()  # its job parked out of arq's poll while the lease is held


async def _taken(redis: Redis, env: Settings, run_id: str) -> bool:
    """The lease is released, arq's marker gone and the job due now."""
    job = run_job_id(run_id)
    score = await redis.zscore(env.RUN_QUEUE_NAME, job)
    return (
        not await redis.exists(lease_key(env.REDIS_PREFIX, run_id))
        and not await redis.exists(in_progress_key_prefix + job)
        and score is not None
        and score <= time.time() * 1000
    )


def _runs() -> tuple[str, str]:
    return f"run-{secrets.token_hex(4)}", f"run-{secrets.token_hex(4)}"


async def test_leases_of_a_dead_boot_are_released_and_their_jobs_put_first(worker_env, redis):
    prefix, queue = worker_env.REDIS_PREFIX, worker_env.RUN_QUEUE_NAME
    name = f"w-{secrets.token_hex(3)}"
    mine, theirs = _runs()
    dead = await present(worker_env.REDIS_URL, name, redis, prefix)
    await _leased(redis, worker_env, mine, name, named=True)
    await _leased(redis, worker_env, theirs, "other-worker", named=False)
    restarted = await present(worker_env.REDIS_URL, name, redis, prefix)
    # The earlier boot still lives (a second process under the same name): nothing moves.
    assert await reclaim(redis, restarted, queue) == []
    assert await redis.exists(lease_key(prefix, mine))

    await dead.close()  # as the kernel closes the sockets of a SIGKILLed process
    assert await reclaim(redis, restarted, queue) == [mine]
    assert await _taken(redis, worker_env, mine)
    # Another worker's run is not this worker's to take.
    assert await redis.exists(lease_key(prefix, theirs))
    assert await redis.exists(in_progress_key_prefix + run_job_id(theirs))
    await restarted.close()


async def test_a_peer_takes_the_runs_of_a_worker_whose_signs_of_life_are_both_gone(
    worker_env, redis
):
    prefix, queue = worker_env.REDIS_PREFIX, worker_env.RUN_QUEUE_NAME
    name, peer_name = f"w-{secrets.token_hex(3)}", f"w-{secrets.token_hex(3)}"
    held, expired = _runs()
    worker = await present(worker_env.REDIS_URL, name, redis, prefix)
    peer = await present(worker_env.REDIS_URL, peer_name, redis, prefix)
    peers = Peers(redis, peer, queue, settle_s=0)  # the test's Redis may be new
    await _leased(redis, worker_env, held, name, named=True)
    await _leased(redis, worker_env, expired, name, named=True)
    await redis.delete(lease_key(prefix, expired))  # its lease ran out, arq's marker did not
    starting, _ = _runs()  # its job taken, its lease not yet: the worker died in between
    job = run_job_id(starting)
    await RunLease(redis, prefix, starting, job, 60_000, name, held=held_key(prefix, name)).note()
    await redis.set(in_progress_key_prefix + job, b"1", px=120_000)
    await redis.zadd(queue, {job: int(time.time() * 1000) + 60_000})
    alive = f"{prefix}:alive:{name}"
    try:
        # Alive: nothing is taken.
        assert await peers.check() == []
        # Its key is stale but its presence is open: stalled for a moment, not dead.
        await redis.pexpire(alive, ALIVE_MS - STALE_MS - 100)
        assert await peers.check() == []
        # Its presence was cut, but it refreshes its key: a connection killed, not a death.
        await worker.close()
        await worker.beat()  # reconnects its presence, too: cut it again after
        await worker.close()
        assert await peers.check() == []
        assert await redis.exists(lease_key(prefix, held))

        # Both gone, as after a SIGKILL: the peer takes its runs, the expired lease's too and
        # the one it was starting;
        # not in a Redis server's first seconds (every presence is gone after a restart).
        await redis.pexpire(alive, ALIVE_MS - STALE_MS - 100)
        assert await Peers(redis, peer, queue, settle_s=10**9).check() == []
        assert sorted(await peers.check()) == sorted([held, expired, starting])
        for run_id in (held, expired, starting):
            assert await _taken(redis, worker_env, run_id)
        assert not await redis.exists(held_key(prefix, name))
        assert await peers.check() == []  # forgotten until it says it lives again
    finally:
        await worker.close()
        await peer.close()


async def test_a_run_another_worker_holds_by_now_is_not_taken(worker_env, redis):
    prefix, queue = worker_env.REDIS_PREFIX, worker_env.RUN_QUEUE_NAME
    name = f"w-{secrets.token_hex(3)}"
    run_id, _ = _runs()
    gone = await present(worker_env.REDIS_URL, name, redis, prefix)
    await _leased(redis, worker_env, run_id, name, named=True)
    await redis.delete(lease_key(prefix, run_id))
    await _leased(redis, worker_env, run_id, "new-holder", named=False)
    await gone.close()
    restarted = await present(worker_env.REDIS_URL, name, redis, prefix)
    assert await reclaim(redis, restarted, queue) == []
    assert await redis.exists(in_progress_key_prefix + run_job_id(run_id))
    await restarted.close()
