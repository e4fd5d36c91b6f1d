"""The runs of a dead worker are taken at once: by the worker restarted under its name, or by
a live peer.

A worker SIGKILLed (out of memory, a crash) leaves its runs' leases and arq's in-progress
markers behind: another worker may take a run over only once both have expired, two lease
times (the margin that keeps a stalled worker from being doubled). A named worker
(``WORKER_NAME``, unique among the queue's live workers: the pod's name) knows better, from
two signs of life it gives while it lives:

- a Redis connection named after its name and its boot (its *presence*), which the kernel
  closes when the process dies, whatever killed it;
- a key it refreshes every ``KEEPALIVE_S`` through its other connections (``alive``).

Each named worker notes in a set (``held``) the runs it holds a lease on, or has a job of
and is about to lease. A worker whose
presence is gone and whose key has gone stale is dead: its leases are released, arq's markers
of its jobs deleted and the jobs put first in the queue, where the next free worker takes them
(and resumes each run through reconciliation). Both signs are needed: a presence cut alone (a
connection killed, the rest of the worker fine) still refreshes its key; a worker stalled for
a moment still holds its connection. A worker cut off from Redis altogether keeps its
connection in Redis' list until the server notices, long after its leases ran out; it stops
its runs when it cannot renew them, as before.

- At start, a worker takes back what an earlier boot of its name held (``reclaim``): no other
  connection of its name means that boot is dead.
- While it lives, it watches its peers (``Peers``) every ``WATCH_S`` and takes the runs of one
  that died. Not in the first ``SETTLE_S`` of a Redis server's life: after a restart with its
  keys kept, every worker's presence is gone until it reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from dataclasses import dataclass
from typing import Any, Final

from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tradebot.observability.logs import get_logger
from tradebot.runs.queue import run_job_id
from tradebot.workers.lease import RELEASE, lease_key

log = get_logger(__name__)
CONNECTION_PREFIX: Final = "tradebot-worker"
KEEPALIVE_S: Final = 1.0
"""How often a worker pings its presence (back at once after a Redis restart) and refreshes
its key."""
ALIVE_MS: Final = 10_000
STALE_MS: Final = 1_500
"""A key not refreshed for this long (a refresh missed) is a sign of death, with the presence."""
WATCH_S: Final = 0.5
SETTLE_S: Final = 3
"""No peer is taken over in a Redis server's first seconds: after a restart that kept its keys,
every presence is gone until its worker's next beat (``KEEPALIVE_S``)."""


def lease_owner(token: str) -> str:
    """The worker name (or random id) a lease token was issued under."""
    return token.rpartition("/")[0]


def held_key(prefix: str, name: str) -> str:
    """The set of the runs a named worker holds a lease on."""
    return f"{prefix}:held:{name}"


def _alive_key(prefix: str, name: str) -> str:
    return f"{prefix}:alive:{name}"


def _workers_key(prefix: str) -> str:
    return f"{prefix}:workers"


@dataclass(slots=True)
class Presence:
    """This worker's named connection (open while the process lives) and its key."""

    name: str
    boot: str
    connection: Redis
    redis: Any
    """The worker's other connections: the key is refreshed through them."""
    prefix: str

    @property
    def client_name(self) -> str:
        return f"{CONNECTION_PREFIX}:{self.name}:{self.boot}"

    async def beat(self) -> None:
        """Say it lives: the presence pinged (reconnected, named again, if it was lost) and
        the key refreshed."""
        with contextlib.suppress(RedisError, OSError):
            await self.connection.ping()
        with contextlib.suppress(RedisError, OSError):
            pipe = self.redis.pipeline(transaction=False)
            pipe.set(_alive_key(self.prefix, self.name), self.boot, px=ALIVE_MS)
            pipe.sadd(_workers_key(self.prefix), self.name)
            await pipe.execute()

    async def keep(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_S)
            await self.beat()

    async def _connections(self) -> list[str]:
        """The names of every open worker presence (``prefix:name:boot``)."""
        clients = await self.connection.client_list()
        named = (str(c.get("name", "")) for c in clients)
        return [n for n in named if n.startswith(f"{CONNECTION_PREFIX}:") and n.count(":") == 2]

    async def present_names(self) -> set[str]:
        """The names of every worker whose presence is open."""
        return {n.split(":")[1] for n in await self._connections()}

    async def others(self) -> list[str]:
        """Names of the open connections of another boot of this worker's name."""
        mine = f"{CONNECTION_PREFIX}:{self.name}:"
        return [
            n for n in await self._connections() if n.startswith(mine) and n != self.client_name
        ]

    async def close(self) -> None:
        await self.connection.aclose()


async def present(redis_url: str, name: str, redis: Any, prefix: str) -> Presence:
    boot = secrets.token_hex(6)
    connection = Redis.from_url(
        redis_url,
        client_name=f"{CONNECTION_PREFIX}:{name}:{boot}",
        single_connection_client=True,
    )
    await connection.ping()
    presence = Presence(name, boot, connection, redis, prefix)
    await presence.beat()
    return presence


async def take_runs(redis: Any, prefix: str, queue_name: str, owner: str) -> list[str]:
    """Release the leases ``owner`` held and put their jobs first in the queue; returns the
    run ids taken (a run another worker holds by now is left alone)."""
    held = held_key(prefix, owner)
    taken: list[str] = []
    for member in await redis.smembers(held):
        run_id = _text(member)
        key = lease_key(prefix, run_id)
        token = await redis.get(key)
        if token is not None and lease_owner(_text(token)) != owner:
            await redis.srem(held, run_id)
            continue  # someone else drives it now
        if token is not None and not await redis.eval(RELEASE, 1, key, token):
            continue  # renewed or taken meanwhile: looked at again next time
        job_id = run_job_id(run_id)
        await redis.delete(in_progress_key_prefix + job_id)
        await redis.zadd(queue_name, {job_id: int(time.time() * 1000)}, xx=True)
        await redis.srem(held, run_id)
        taken.append(run_id)
    return taken


async def reclaim(redis: Any, presence: Presence, queue_name: str) -> list[str]:
    """Take back what an earlier boot of this worker's name held (none while another boot
    lives)."""
    others = await presence.others()
    if others:
        log.error("worker_name_in_use", worker=presence.name, connections=others[:3])
        return []
    taken = await take_runs(redis, presence.prefix, queue_name, presence.name)
    if taken:
        log.warning("runs_reclaimed", worker=presence.name, runs=len(taken))
    return taken


class Peers:
    """Watches the other named workers of the queue and takes the runs of a dead one."""

    def __init__(
        self, redis: Any, presence: Presence, queue_name: str, *, settle_s: float = SETTLE_S
    ) -> None:
        self.redis = redis
        self.presence = presence
        self.queue_name = queue_name
        self.settle_s = settle_s

    async def check(self) -> list[str]:
        """One look: the runs taken from dead peers (none while in doubt)."""
        prefix, me = self.presence.prefix, self.presence.name
        names = sorted(_text(n) for n in await self.redis.smembers(_workers_key(prefix)))
        peers = [n for n in names if n != me]
        if not peers:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for name in peers:
            pipe.pttl(_alive_key(prefix, name))
        stale = [
            n
            for n, left in zip(peers, await pipe.execute(), strict=True)
            if left < ALIVE_MS - STALE_MS
        ]
        if not stale:
            return []
        uptime = int((await self.redis.info("server"))["uptime_in_seconds"])
        present = await self.presence.present_names()
        if uptime < self.settle_s or me not in present:
            return []  # a new server, or this worker's own view is in doubt
        taken: list[str] = []
        for name in stale:
            if name in present:
                continue  # stalled, not dead
            runs = await take_runs(self.redis, prefix, self.queue_name, name)
            if runs:
                log.warning("runs_taken_over", worker=name, by=me, runs=len(runs))
            taken += runs
            if not await self.redis.exists(held_key(prefix, name)):
                await self.redis.srem(_workers_key(prefix), name)  # it says so again if it lives
        return taken

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_S)
            try:
                await self.check()
            except (RedisError, OSError) as exc:
                log.warning("peer_watch_failed", error=str(exc))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
