"""A worker restarted under its name takes its runs back at once.

A worker SIGKILLed (out of memory, a crash) leaves its runs' leases and arq's in-progress
markers behind: another worker may take a run over only once both have expired, two lease
times (the margin that keeps a stalled worker from being doubled). A worker restarted in place
(a pod's container, a systemd unit) under the same ``WORKER_NAME`` knows better. It keeps a
Redis connection named after its name and its boot for as long as it lives; the kernel closes
that connection when the process dies, whatever killed it. So at start, if no connection of
its name but its own is open, whoever held leases under its name is gone: the leases are
released and the jobs handed back to the queue at once.

The name must be unique among the queue's live workers (the pod's name). Should two live
workers share one, each sees the other's connection and takes nothing back (and says so); a
worker whose host died leaves a connection Redis keeps for a while: its runs then wait for
their leases, as without a name.
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
KEEPALIVE_S: Final = 30.0
SCAN_BATCH: Final = 1_000


def lease_owner(token: str) -> str:
    """The worker name (or random id) a lease token was issued under."""
    return token.rpartition("/")[0]


@dataclass(slots=True)
class Presence:
    """This worker's named connection: open while the process lives."""

    name: str
    boot: str
    connection: Redis

    @property
    def client_name(self) -> str:
        return f"{CONNECTION_PREFIX}:{self.name}:{self.boot}"

    async def keep(self) -> None:
        """Ping now and then: the connection stays open (and comes back after a Redis
        restart, named again)."""
        while True:
            await asyncio.sleep(KEEPALIVE_S)
            with contextlib.suppress(RedisError, OSError):
                await self.connection.ping()

    async def others(self) -> list[str]:
        """Names of the open connections of another boot of this worker's name."""
        mine = f"{CONNECTION_PREFIX}:{self.name}:"
        clients = await self.connection.client_list()
        return [
            str(c["name"])
            for c in clients
            if str(c.get("name", "")).startswith(mine) and c["name"] != self.client_name
        ]

    async def close(self) -> None:
        await self.connection.aclose()


async def present(redis_url: str, name: str) -> Presence:
    boot = secrets.token_hex(6)
    connection = Redis.from_url(
        redis_url,
        client_name=f"{CONNECTION_PREFIX}:{name}:{boot}",
        single_connection_client=True,
    )
    await connection.ping()
    return Presence(name, boot, connection)


async def reclaim(redis: Any, presence: Presence, prefix: str, queue_name: str) -> list[str]:
    """Release the leases an earlier boot of this worker's name left, and put their jobs
    first in the queue; returns the run ids taken back (none while another boot lives)."""
    others = await presence.others()
    if others:
        log.error("worker_name_in_use", worker=presence.name, connections=others[:3])
        return []
    taken: list[str] = []
    pattern = lease_key(prefix, "*")
    async for keys in _batches(redis, pattern):
        tokens = await redis.mget(keys)
        for key, token in zip(keys, tokens, strict=True):
            if token is None or lease_owner(_text(token)) != presence.name:
                continue
            if not await redis.eval(RELEASE, 1, key, token):
                continue  # expired or taken meanwhile
            run_id = _text(key).rpartition(":")[2]
            job_id = run_job_id(run_id)
            await redis.delete(in_progress_key_prefix + job_id)
            await redis.zadd(queue_name, {job_id: int(time.time() * 1000)}, xx=True)
            taken.append(run_id)
    if taken:
        log.warning("runs_reclaimed", worker=presence.name, runs=len(taken))
    return taken


async def _batches(redis: Any, pattern: str) -> Any:
    cursor = 0
    while True:
        cursor, keys = await redis.scan(cursor, match=pattern, count=SCAN_BATCH)
        if keys:
            yield list(keys)
        if not cursor:
            return


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
