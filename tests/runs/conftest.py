"""Fixtures of the run tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.db import create_engine, session_factory


@pytest.fixture
async def sessions(pg_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the session database (as its owner: no row-level security)."""
    engine = create_engine(pg_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def sessions_for() -> Iterator[Callable[[str], async_sessionmaker[AsyncSession]]]:
    """Sessions on any database URL, disposed after the test."""
    engines = []

    def make(url: str) -> async_sessionmaker[AsyncSession]:
        engine = create_engine(url)
        engines.append(engine)
        return session_factory(engine)

    yield make
    for engine in engines:
        engine.sync_engine.dispose()
