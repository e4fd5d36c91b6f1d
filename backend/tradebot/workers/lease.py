"""One owner per run: a lease in Redis that a worker holds while it drives the run.

``SET lease token NX PX ttl`` takes it; a heartbeat renews it (a compare-and-renew script, so
only the holder's token can); the holder deletes it on the way out. The worker's ``Heartbeat``
renews all its leases together, a hundred to a script call: one call per lease was two hundred
calls a second at a thousand runs, an eighth of the worker's CPU. A worker that dies stops
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
from collections.abc import Callable, Sequence
from typing import Any, Final

from arq.constants import in_progress_key_prefix, job_key_prefix
from redis.exceptions import RedisError

from tradebot.observability.logs import get_logger

log = get_logger(__name__)
JOB_KEY_TTL_MS: Final = 7 * 86_400_000
"""How long a running job's definition is kept past each heartbeat (arq's default is a day)."""

_RENEW: Final = """
local kept = {}
for i = 0, #KEYS / 4 - 1 do
  local k, a = i * 4, i * 6
  local lease, marker, job, queue = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  if redis.call('get', lease) ~= ARGV[a + 1] then
    kept[i + 1] = 0
  else
    redis.call('pexpire', lease, ARGV[a + 2])
    if redis.call('exists', marker) == 1 then redis.call('pexpire', marker, ARGV[a + 3]) end
    if redis.call('exists', job) == 1 then redis.call('pexpire', job, ARGV[a + 4]) end
    if queue ~= '' then redis.call('zadd', queue, 'XX', 'GT', ARGV[a + 5], ARGV[a + 6]) end
    kept[i + 1] = 1
  end
end
return kept
"""
"""Renew leases, each four keys (the lease, arq's in-progress marker and job, arq's queue or
'' when not parked) and six arguments; one 1 (kept) or 0 (not ours) per lease."""
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
        return (await renew_all(self.redis, [self]))[0]

    def _renewal(self, now_ms: int) -> tuple[list[str], list[Any]]:
        """The lease's keys and arguments in the renewal script."""
        keys = [self.key, in_progress_key_prefix + self.job_id, job_key_prefix + self.job_id]
        args: list[Any] = [self.token, self.ttl_ms, 2 * self.ttl_ms, JOB_KEY_TTL_MS, 0, ""]
        if self.queue is None:
            return [*keys, ""], args
        args[4:] = [now_ms + 2 * self.ttl_ms, self.job_id]  # parked as long as the marker lives
        return [*keys, self.queue[0]], args

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


async def renew_all(redis: Any, leases: Sequence[RunLease]) -> list[bool]:
    """Renew ``leases`` in one script call; whether each is still ours."""
    started, now_ms = time.monotonic(), int(time.time() * 1000)
    keys: list[str] = []
    args: list[Any] = []
    for lease in leases:
        lease_keys, lease_args = lease._renewal(now_ms)
        keys += lease_keys
        args += lease_args
    kept = [bool(k) for k in await redis.eval(_RENEW, len(keys), *keys, *args)]
    for lease, ours in zip(leases, kept, strict=True):
        if ours:
            lease.valid_until = started + lease.ttl_ms / 1000
    return kept


class Heartbeat:
    """Renews every lease the worker holds, every third of ``ttl_ms``, ``BATCH`` to a call."""

    BATCH = 100

    def __init__(self, redis: Any, ttl_ms: int) -> None:
        self.redis = redis
        self.ttl_ms = ttl_ms
        self._held: dict[RunLease, asyncio.Future[None]] = {}
        """The leases held, each with the future its holder awaits: set once it is lost."""
        self._task: asyncio.Task[None] | None = None

    async def hold(self, lease: RunLease, on_lost: Callable[[], None]) -> None:
        """Keep ``lease`` until cancelled; call ``on_lost`` once it is gone (taken over, or
        not renewable before it ran out) and return."""
        lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._held[lease] = lost
        if self._task is None:
            self._task = asyncio.create_task(self._beat())
        try:
            await lost
        finally:
            self._held.pop(lease, None)
        on_lost()

    async def _beat(self) -> None:
        try:
            while self._held:
                await asyncio.sleep(self.ttl_ms / 3000)
                leases = list(self._held)
                for first in range(0, len(leases), self.BATCH):
                    await self._renew(leases[first : first + self.BATCH])
        finally:
            self._task = None

    async def _renew(self, leases: list[RunLease]) -> None:
        error = None
        try:
            kept = await renew_all(self.redis, leases)
        except (RedisError, OSError) as exc:
            error = str(exc)
            kept = [False] * len(leases)
        now = time.monotonic()
        for lease, ours in zip(leases, kept, strict=True):
            if ours or lease not in self._held:
                continue
            if error is not None and now < lease.valid_until - lease.ttl_ms / 3000:
                log.warning("lease_renew_failed", lease=lease.key, error=error)
                continue
            late = round(now - lease.valid_until, 3)
            log.error("lease_lost", lease=lease.key, error=error, late_s=late)
            self._held.pop(lease).set_result(None)
