"""Settings of the worker tests: the session database, a queue and key prefix of their own on
the real Redis (its keys deleted afterwards), and sessions on the database."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.config import Settings
from tradebot.db import create_engine, session_factory


@pytest.fixture
async def worker_env(pg_url: str, master_key: str) -> AsyncIterator[Settings]:
    tag = secrets.token_hex(4)
    settings = Settings(
        PG_URL=pg_url,
        CLIENT_MASTER_KEY=master_key,
        REDIS_PREFIX=f"tradebot-wtest-{tag}",
        RUN_QUEUE_NAME=f"tradebot-wtest-runs-{tag}",
        NOT_FOUND_GRACE_MS=300,
        ORDER_RATE_INTERVAL_MS=0,
        MAX_RUN_LOSS_USD=1e9,
        MAX_GLOBAL_DRAWDOWN_USD=1e9,
        STALE_TICKER_MS=10**12,
    )
    yield settings
    redis = Redis.from_url(settings.REDIS_URL)
    try:
        keys = [k async for k in redis.scan_iter(f"*{tag}*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


@pytest.fixture
async def sessions(pg_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(pg_url)
    yield session_factory(engine)
    await engine.dispose()
