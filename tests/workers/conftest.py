"""Fixtures of the worker tests: ``worker_env`` (settings on the session database, with a queue
and key prefix of their own on the real Redis) and sessions on the database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.workers.fixtures import worker_env  # noqa: F401  (a shared fixture)
from tradebot.db import create_engine, session_factory


@pytest.fixture
async def sessions(pg_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(pg_url)
    yield session_factory(engine)
    await engine.dispose()
