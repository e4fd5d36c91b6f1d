"""``scoped_row`` on the asyncpg driver: the tenant's transaction, row-level security and the
same values as the session, and nothing left on the pooled connection afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from sqlalchemy import Float, cast, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.clients.factories import make_client, make_tenant_rows
from tradebot.db import create_engine, session_factory
from tradebot.kit.scope import APP_ROLE, ClientScope, client_transaction
from tradebot.kit.scoped_reads import scoped_row
from tradebot.models.runs import BotRun

RUNS = BotRun.__table__  # type: ignore[attr-defined]
WHO_TEXT = "SELECT current_user, current_setting('app.client_id', true)"
SLOW = select(func.pg_sleep(5).label("slept"))
WHO = select(
    literal_column("current_user").label("role"),
    func.current_setting("app.client_id", True).label("client"),
)


@pytest.fixture
async def one_connection(pg_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions over a pool of one connection, as the API's engine (no ping on checkout)."""
    engine = create_engine(pg_url, pool_size=1, max_overflow=0, pool_pre_ping=False)
    yield session_factory(engine)
    await engine.dispose()


async def _connection_state(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
    """Who the pooled connection is and its tenant setting, outside any tenant transaction."""
    async with sessions() as session:
        role, client = (await session.execute(text(WHO_TEXT))).one()
    return role, client or ""


async def test_the_read_runs_as_the_tenant_under_row_level_security(one_connection):
    mine, theirs = await make_client(one_connection), await make_client(one_connection)
    await make_tenant_rows(one_connection, mine)
    await make_tenant_rows(one_connection, theirs)
    scope = ClientScope.of(mine)

    who = await scoped_row(one_connection, scope, WHO, {})
    unfiltered = select(func.count().label("runs"), func.min(RUNS.c.client_id).label("client"))
    visible = await scoped_row(one_connection, scope, unfiltered, {})

    assert who == {"role": APP_ROLE, "client": mine}
    assert visible == {"runs": 1, "client": mine}  # the query forgot its filter: RLS did not


async def test_the_row_has_the_values_the_session_gives(one_connection):
    client = await make_client(one_connection)
    run_id = await make_tenant_rows(one_connection, client)
    scope = ClientScope.of(client)
    statement = select(
        *RUNS.c, cast(RUNS.c.base_ts, Float).label("f"), func.count().over().label("n")
    ).where(RUNS.c.id == run_id)

    on_driver = await scoped_row(one_connection, scope, statement, {})
    async with client_transaction(one_connection, scope) as session:
        on_session = (await session.execute(statement)).mappings().one()

    assert on_driver == dict(on_session)
    assert {type(value) for value in on_driver.values()} >= {dict, datetime, int, float}


async def test_nothing_outlives_a_read_that_failed_or_was_cancelled(one_connection):
    before = await _connection_state(one_connection)
    scope = ClientScope.of(await make_client(one_connection))

    with pytest.raises(Exception, match="division by zero"):
        await scoped_row(one_connection, scope, select(literal_column("1 / 0").label("x")), {})
    assert await _connection_state(one_connection) == before

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(scoped_row(one_connection, scope, SLOW, {}), 0.3)
    assert await _connection_state(one_connection) == before
    assert await scoped_row(one_connection, scope, WHO, {}) == {
        "role": APP_ROLE,
        "client": scope.client_id,
    }


async def test_a_read_whose_rollback_was_interrupted_gives_its_connection_up(one_connection):
    before = await _connection_state(one_connection)
    scope = ClientScope.of(await make_client(one_connection))
    read = asyncio.create_task(scoped_row(one_connection, scope, SLOW, {}))
    await asyncio.sleep(0.3)
    read.cancel()  # the statement is interrupted and the rollback starts...
    await asyncio.sleep(0.001)
    read.cancel()  # ...and is interrupted too: the connection is still in the transaction
    with pytest.raises(asyncio.CancelledError):
        await read

    assert await _connection_state(one_connection) == before  # a new connection, not that one
