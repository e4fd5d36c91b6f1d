"""Fixtures of the notification tests: the worker's settings on the session database and
Redis (``worker_env``), sessions on the database, and a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.fixtures import (  # noqa: F401  (fixtures shared by the API-facing tests)
    api,
    api_settings,
    issuer,
    login,
    make_client,
    stripe_stand_in,
)
from tests.notifications.smtp import SmtpServer, smtp_server
from tests.workers.fixtures import worker_env  # noqa: F401  (a shared fixture)
from tradebot.db import create_engine, session_factory


@pytest.fixture
async def sessions(pg_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(pg_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server
