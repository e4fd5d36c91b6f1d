"""The worker's leases are renewed together (real Redis): a batch keeps each lease that is still
ours, finds the one another worker took, and rides out a Redis outage shorter than a lease."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tradebot.config import Settings
from tradebot.runs.queue import run_job_id
from tradebot.workers.lease import Heartbeat, RunLease, lease_key

TTL_MS = 600


@pytest.fixture
async def redis(worker_env: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(worker_env.REDIS_URL)
    yield client
    await client.aclose()


async def _leases(redis: Redis, prefix: str, count: int) -> list[RunLease]:
    leases = []
    for _ in range(count):
        run_id = f"run-{secrets.token_hex(4)}"
        lease = RunLease(redis, prefix, run_id, run_job_id(run_id), TTL_MS, "w")
        assert await lease.acquire()
        leases.append(lease)
    return leases


async def test_leases_are_renewed_in_batches_and_the_one_taken_over_is_lost(worker_env, redis):
    prefix = worker_env.REDIS_PREFIX
    heartbeat = Heartbeat(redis, TTL_MS)
    heartbeat.BATCH = 2  # three leases: two calls per beat
    leases = await _leases(redis, prefix, 3)
    lost: list[str] = []
    holders = [
        asyncio.create_task(heartbeat.hold(lease, lambda run=lease.run_id: lost.append(run)))
        for lease in leases
    ]
    await asyncio.sleep(3 * TTL_MS / 1000)  # three lease times: only renewals keep them
    assert lost == []
    for lease in leases:
        assert await redis.get(lease.key) == lease.token.encode()
    taken = leases[1]
    await redis.set(lease_key(prefix, taken.run_id), b"other/token", px=60_000)
    await asyncio.wait_for(holders[1], 2)  # its holder returns once the lease is found gone
    assert lost == [taken.run_id]
    assert not holders[0].done()
    assert not holders[2].done()
    for holder in (holders[0], holders[2]):
        holder.cancel()
    await asyncio.wait(holders)
    await asyncio.sleep(TTL_MS / 1000 + 0.1)  # no holder left: the beat stops, nothing renews
    assert not await redis.exists(leases[0].key)
    assert await redis.get(taken.key) == b"other/token"  # never overwritten by a renewal
    await redis.delete(taken.key)


class Outage:
    """Redis that fails every call while ``down`` (a connection refused), the real one else."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.down = False

    async def eval(self, *args: object) -> object:
        if self.down:
            raise ConnectionError("Connection refused")
        return await self.redis.eval(*args)  # type: ignore[arg-type]


async def test_a_short_outage_keeps_the_leases_and_a_long_one_loses_them(worker_env, redis):
    (lease,) = await _leases(redis, worker_env.REDIS_PREFIX, 1)
    outage = Outage(redis)
    heartbeat = Heartbeat(outage, TTL_MS)
    lost: list[str] = []
    holder = asyncio.create_task(heartbeat.hold(lease, lambda: lost.append(lease.run_id)))
    await asyncio.sleep(0.05)
    outage.down = True  # one beat fails while the lease is surely still ours
    await asyncio.sleep(TTL_MS / 3000 + 0.05)
    outage.down = False
    await asyncio.sleep(TTL_MS / 1000)
    assert lost == []
    assert not holder.done()
    outage.down = True  # beats fail until the lease may have run out: the run must stop
    await asyncio.wait_for(holder, 2)
    assert lost == [lease.run_id]
    await redis.delete(lease.key)
