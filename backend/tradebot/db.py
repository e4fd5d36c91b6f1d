"""Database engines and sessions: one async engine per URL, sessions that commit or roll back.

PostgreSQL goes through asyncpg; the embedded default is SQLite through aiosqlite, in WAL mode
with foreign keys on, so the same models and migrations serve both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def create_pooled_engine(url: str, pool_size: int, **kwargs: Any) -> AsyncEngine:
    """A long-lived process's engine (the API, a worker): on PostgreSQL a steady pool.

    ``pool_size`` connections stay open, with no overflow: SQLAlchemy's default closes the
    overflow ones after each use, so a burst pays a new connection (a server process,
    authentication, type introspection) each time it can least afford it. Most recently used
    first, so a quiet process keeps using the same warm few. No ``pool_pre_ping``: with
    asyncpg it costs three round trips (BEGIN, a ping, ROLLBACK) on every checkout; a
    connection that dies in use fails its transaction and SQLAlchemy replaces the whole pool.
    """
    if not url.startswith("postgresql"):
        return create_engine(url)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_use_lifo=True,
        pool_pre_ping=False,
        **kwargs,
    )


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session whose work commits on success and rolls back on any error."""
    async with sessions() as session, session.begin():
        yield session
