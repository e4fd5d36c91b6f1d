"""One owner per run: a lease in Redis that a worker holds while it drives the run.

``SET lease token NX PX ttl`` takes it; a heartbeat renews it (a compare-and-renew script, so
only the holder's token can); the holder deletes it on the way out. A worker that dies stops
renewing and its lease expires after ``ttl``: another worker may then take the run and resume
it through reconciliation. The same heartbeat keeps arq's own keys of the job on the lease's
clock: the job's in-progress marker expires one lease's time after the lease (so arq hands the
job to another worker once this one is dead, never while a stalled one may still hold it) and
the job's definition outlives a run of many days.

While it holds the lease, the job's entry in arq's queue is *parked*: its score is kept on the
same clock as the in-progress marker, due only once the marker would have expired. arq keeps a
job in its queue while it runs, and a worker with room for more jobs checks every due entry
of the queue at every poll (three round trips each, twice a second): with a thousand runs that
was a third of a worker's CPU, and the runs' decisions waited behind it. A dead holder's entry
comes due when its marker expires, as before; released, the entry gets its score back, so that
arq's retry (which adds its delay to it) means what it says.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from typing import Any, Final

from arq.constants import in_progress_key_prefix, job_key_prefix
from redis.exceptions import RedisError

from tradebot.observability.logs import get_logger

log = get_logger(__name__)
JOB_KEY_TTL_MS: Final = 7 * 86_400_000
"""How long a running job's definition is kept past each heartbeat (arq's default is a day)."""

_RENEW: Final = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('pexpire', KEYS[1], ARGV[2])
if redis.call('exists', KEYS[2]) == 1 then redis.call('pexpire', KEYS[2], ARGV[3]) end
if redis.call('exists', KEYS[3]) == 1 then redis.call('pexpire', KEYS[3], ARGV[4]) end
if KEYS[4] then redis.call('zadd', KEYS[4], 'XX', 'GT', ARGV[5], ARGV[6]) end
return 1
"""
RELEASE: Final = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def lease_key(prefix: str, run_id: str) -> str:
    return f"{prefix}:lease:run:{run_id}"


class RunLease:
    """The lease of one run, held (or not) by this worker under a token of its own that names
    the worker (``owner/random``: a worker restarted under its name finds its leases)."""

    def __init__(
        self,
        redis: Any,
        prefix: str,
        run_id: str,
        job_id: str,
        ttl_ms: int,
        owner: str,
        held: str | None = None,
        queue: tuple[str, int] | None = None,
    ) -> None:
        self.redis = redis
        self.run_id = run_id
        self.key = lease_key(prefix, run_id)
        self.held = held
        """A named worker's set of the runs it holds (``reclaim.held_key``): whoever finds it
        dead takes them from there."""
        self.job_id = job_id
        self.queue = queue
        """arq's queue and the job's score in it when it started: parked while held."""
        self.ttl_ms = ttl_ms
        self.token = f"{owner}/{secrets.token_hex(12)}"
        self.valid_until = 0.0
        """Monotonic time before which the lease is surely still ours (renewal sent earlier)."""

    async def note(self) -> None:
        """Note the run among the worker's before its lease is taken: a worker that dies
        while it starts a job leaves arq's marker of it, and whoever takes its runs finds the
        job here."""
        if self.held is not None:
            await self.redis.sadd(self.held, self.run_id)

    async def forget(self) -> None:
        """The job ends without the lease (or after releasing it): no longer the worker's."""
        if self.held is not None:
            await self.redis.srem(self.held, self.run_id)

    async def acquire(self) -> bool:
        started = time.monotonic()
        taken = await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms)
        if taken:
            self.valid_until = started + self.ttl_ms / 1000
            await self.note()
            await self.renew()
        return bool(taken)

    async def renew(self) -> bool:
        """Extend the lease (and the job's arq keys); False if it is no longer ours."""
        started = time.monotonic()
        keys = [self.key, in_progress_key_prefix + self.job_id, job_key_prefix + self.job_id]
        args: list[Any] = [self.token, self.ttl_ms, 2 * self.ttl_ms, JOB_KEY_TTL_MS]
        if self.queue is not None:
            keys.append(self.queue[0])  # parked as long as the marker lives
            args += [int(time.time() * 1000) + 2 * self.ttl_ms, self.job_id]
        kept = await self.redis.eval(_RENEW, len(keys), *keys, *args)
        if kept:
            self.valid_until = started + self.ttl_ms / 1000
        return bool(kept)

    async def release(self) -> None:
        await self.redis.eval(RELEASE, 1, self.key, self.token)
        await self.forget()
        self.valid_until = 0.0

    async def unpark(self) -> None:
        """The job's queue score back, whether the lease was released or lost: arq's retry
        adds its delay to it. A job another worker holds by now is parked again at its next
        renewal."""
        if self.queue is not None:
            await self.redis.zadd(self.queue[0], {self.job_id: self.queue[1]}, xx=True)

    async def hold(self, on_lost: Callable[[], None]) -> None:
        """Renew every third of the TTL until cancelled; call ``on_lost`` once the lease is
        gone (taken over, or not renewable before it ran out) and return."""
        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            error = None
            try:
                if await self.renew():
                    continue
            except (RedisError, OSError) as exc:
                error = str(exc)
                if time.monotonic() < self.valid_until - self.ttl_ms / 3000:
                    log.warning("lease_renew_failed", lease=self.key, error=error)
                    continue
            late = round(time.monotonic() - self.valid_until, 3)
            log.error("lease_lost", lease=self.key, error=error, late_s=late)
            on_lost()
            return
