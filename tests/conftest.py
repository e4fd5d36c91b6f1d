"""Shared database fixtures: a throwaway PostgreSQL database per test session (and per xdist
worker), migrated once, dropped at the end; and a migrated SQLite file per test.

The server comes from ``TEST_PG_HOST`` / ``TEST_PG_PORT`` / ``TEST_PG_USER`` /
``TEST_PG_PASSWORD`` (default: ``postgres`` on 127.0.0.1:5432 with trust auth, as
``make services`` sets up). An unreachable server is an error, never a skip.

Fixtures (names are stable: other test packages import them by name):

- ``pg_url``: async URL (``postgresql+asyncpg://``) of the session database, as its owner
  (the superuser). The operator path: no row-level security applies to it.
- ``pg_admin_url``: the same database through the sync driver (``postgresql+psycopg://``),
  for raw SQL set-up and checks.
- ``app_role_url``: async URL of the session database as a login role that is a member of the
  application role ``tradebot_app`` (neither owner nor superuser): row-level security applies.
- ``pg_engine`` / ``pg_sessions``: an async engine / sessionmaker on ``pg_url`` for one test.
- ``fresh_pg_url``: async URL of a new, empty (unmigrated) database for one test.
- ``migrated_pg_url``: async URL of a new database migrated to head, for one test (for tests
  that change database-wide state, such as rotating the master key).
- ``master_key``: the ``CLIENT_MASTER_KEY`` (base64) that seals exchange keys in the session
  database. The master key is database-wide: use this one there, or a ``migrated_pg_url``.
- ``sqlite_url``: async URL (``sqlite+aiosqlite://``) of a migrated SQLite file in ``tmp_path``.

Tests share the session database, so each test creates its own rows under unique ids (see
``unique_id``) instead of relying on an empty table.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import structlog
from psycopg import sql
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tradebot.db import create_engine, session_factory
from tradebot.migrations import upgrade
from tradebot.observability.logs import HANDLER_NAME

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("TEST_PG_USER", "postgres")
PG_PASSWORD = os.environ.get("TEST_PG_PASSWORD") or None
APP_ROLE = "tradebot_app"


def pg_url_for(database: str, *, driver: str = "asyncpg", user: str = PG_USER) -> str:
    """URL of ``database`` on the test server (``driver``: asyncpg or psycopg)."""
    password = PG_PASSWORD if user == PG_USER else None
    return URL.create(
        f"postgresql+{driver}",
        username=user,
        password=password,
        host=PG_HOST,
        port=PG_PORT,
        database=database,
    ).render_as_string(hide_password=False)


def _maintenance() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(
            host=PG_HOST,
            port=PG_PORT,
            user=PG_USER,
            password=PG_PASSWORD,
            dbname="postgres",
            autocommit=True,
        )
    except psycopg.OperationalError as exc:
        raise RuntimeError(
            f"PostgreSQL at {PG_HOST}:{PG_PORT} is required by the tests (run `make services`): "
            f"{exc}"
        ) from exc


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def unique_id(prefix: str = "t") -> str:
    """A fresh id for rows a test creates in the shared session database."""
    return f"{prefix}-{secrets.token_hex(5)}"


def _create_database(prefix: str) -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"
    with _maintenance() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def _drop_database(name: str) -> None:
    with _maintenance() as conn:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(drop.format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """Name of the session's throwaway database, migrated to head; dropped at the end."""
    name = _create_database(f"tradebot_test_{_worker()}")
    try:
        upgrade(pg_url_for(name))
        yield name
    finally:
        _drop_database(name)


@pytest.fixture(scope="session")
def pg_url(pg_database: str) -> str:
    return pg_url_for(pg_database)


@pytest.fixture(scope="session")
def pg_admin_url(pg_database: str) -> str:
    return pg_url_for(pg_database, driver="psycopg")


@pytest.fixture(scope="session")
def app_role_url(pg_database: str) -> Iterator[str]:
    """A login role that only inherits ``tradebot_app`` (roles are cluster-wide: one per run)."""
    login = f"{APP_ROLE}_test_{secrets.token_hex(4)}"
    with _maintenance() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE IN ROLE {}").format(
                sql.Identifier(login), sql.Identifier(APP_ROLE)
            )
        )
    try:
        yield pg_url_for(pg_database, user=login)
    finally:
        with _maintenance() as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login)))


@pytest.fixture
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine for one test (asyncpg connections belong to the test's event loop)."""
    engine = create_engine(pg_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def pg_sessions(pg_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(pg_engine)


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """An empty database (no migrations run) for one test; dropped afterwards."""
    name = _create_database("tradebot_fresh")
    try:
        yield pg_url_for(name)
    finally:
        _drop_database(name)


@pytest.fixture
def migrated_pg_url(fresh_pg_url: str) -> str:
    upgrade(fresh_pg_url)
    return fresh_pg_url


@pytest.fixture(scope="session")
def master_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "tradebot.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """A migrated SQLite database file of this test (a copy of one migrated once per session)."""
    path = tmp_path / "tradebot.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def new_id() -> Callable[[str], str]:
    """``new_id("client")`` -> a unique id (see ``unique_id``)."""
    return unique_id


@pytest.fixture(autouse=True)
def _logging_left_as_found() -> Iterator[None]:
    """A test that configures logging (a CLI command run in this process) takes its handler
    away with it: later tests would write to a stream pytest has closed, and capture nothing."""
    yield
    root = logging.getLogger()
    if any(handler.get_name() == HANDLER_NAME for handler in root.handlers):
        root.handlers[:] = [h for h in root.handlers if h.get_name() != HANDLER_NAME]
        structlog.reset_defaults()


@pytest.fixture(autouse=True)
def _egress_ip_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sends from an egress IP of its own (``EGRESS_IP`` for the settings it and its
    processes load): the shared rate limiter's budget, its 429 penalties and its schedule of
    new WebSocket connections are per IP, and one test's must not hold up another's."""
    monkeypatch.setenv("EGRESS_IP", unique_id("ip"))
