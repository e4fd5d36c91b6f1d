"""The fleet's gauges a worker keeps fresh: runs by client and state, the queue's depth.

Runs by client and state come from the database (one grouped count, on the owner's connection
like the sweeper's reads) and the queue depth from arq's sorted set in Redis, every
``FLEET_REFRESH_S``: what an operator (or an autoscaler) reads is at most that old. Every
worker refreshes them; Prometheus keeps the latest of each, which are the same numbers.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from tradebot.db import transaction
from tradebot.models.runs import BotRun
from tradebot.observability.logs import get_logger
from tradebot.observability.metrics import RUN_QUEUE_DEPTH, RUN_QUEUE_WAITING, RUNS
from tradebot.workers.health import queue_depth
from tradebot.workers.state import WorkerState

log = get_logger(__name__)
FLEET_REFRESH_S = 15.0


async def refresh_fleet_gauges(
    sessions: async_sessionmaker[AsyncSession], redis: Redis, queue_name: str
) -> None:
    """Runs by client and state, the depth of arq's queue ``queue_name`` and the jobs in it
    no worker has taken, read once into their gauges."""
    async with transaction(sessions) as session:
        rows = (
            await session.execute(
                select(col(BotRun.client_id), col(BotRun.status), func.count()).group_by(
                    col(BotRun.client_id), col(BotRun.status)
                )
            )
        ).all()
    depth = await redis.zcard(queue_name)
    RUNS.clear()  # a state no run is in any more reads as absent, not as its last count
    for client_id, status, count in rows:
        RUNS.labels(client_id, str(status)).set(count)
    RUN_QUEUE_DEPTH.set(depth)
    RUN_QUEUE_WAITING.set(await queue_depth(redis, queue_name))


async def keep_fleet_gauges(state: WorkerState) -> None:
    """``refresh_fleet_gauges`` every ``FLEET_REFRESH_S`` until cancelled; a failed read is
    logged and tried again at the next turn."""
    while True:
        try:
            await refresh_fleet_gauges(state.sessions, state.redis, state.settings.RUN_QUEUE_NAME)
        except Exception as exc:  # the database or Redis is down: the gauges wait for them
            log.warning("fleet_metrics_failed", error=str(exc))
        await asyncio.sleep(FLEET_REFRESH_S)
