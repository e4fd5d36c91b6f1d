"""Hot writes' tenant transactions (``kit.writes``): on PostgreSQL they run on asyncpg's own
connection, under SQLAlchemy's pool, and must be a tenant's transaction as a session's is, fail
as a session's do, and never lend a connection again in an unknown state."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import col, select

from tests.clients.factories import make_client
from tests.conftest import unique_id
from tradebot.db import create_engine, create_pooled_engine, session_factory
from tradebot.kit.clock import utcnow
from tradebot.kit.scope import ClientScope
from tradebot.kit.writes import tenant_writes
from tradebot.models.runs import BotRun
from tradebot.workers.run_job import is_transient

WHO = text("SELECT current_user || ' ' || current_setting('app.client_id', true)")
ONE = [{}]


@pytest.fixture
async def one_connection(pg_url):
    """Sessions over a pool of one connection: what a write leaves on it, the next one gets."""
    engine = create_pooled_engine(pg_url, 1)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
async def sessions(request, pg_url, sqlite_url):
    engine = create_pooled_engine(pg_url, 1) if request.param == "postgresql" else None
    engine = engine or create_engine(sqlite_url)
    yield session_factory(engine)
    await engine.dispose()


def _run(run_id: str, client_id: str) -> dict[str, object]:
    return {
        "id": run_id,
        "client_id": client_id,
        "mode": "live",
        "exchange": "binance",
        "pair": "BTC/USDT",
        "status": "created",
        "config": {},
        "state": [1.5],
        "base_ts": 0,
        "clock_ts": 0,
        "owner": "",
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }


async def _run_ids(sessions, client_id: str) -> set[str]:
    async with sessions() as session:
        query = text("SELECT id FROM bot_runs WHERE client_id = :c")
        return set((await session.execute(query, {"c": client_id})).scalars())


async def _write_then_fail(sessions, scope: ClientScope, run: dict[str, object]) -> None:
    async with tenant_writes(sessions, scope) as writes:
        await writes.execute(insert(BotRun.__table__), [run])  # type: ignore[arg-type]
        raise RuntimeError("after the first write")


async def _lose_the_connection_midway(sessions, scope: ClientScope, admin_url: str) -> None:
    """Its server process is ended by the operator between two statements."""
    async with tenant_writes(sessions, scope) as writes:
        [pid] = await writes.scalars(text("SELECT pg_backend_pid()"), ONE)
        with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        await writes.scalars(WHO, ONE)


async def test_driver_transaction_is_the_tenants_and_ends_with_it(one_connection):
    mine = await make_client(one_connection)
    async with tenant_writes(one_connection, ClientScope.of(mine)) as writes:
        assert writes.dialect == "postgresql"
        assert await writes.scalars(WHO, ONE) == [f"tradebot_app {mine}"]
    async with one_connection() as session:  # the same connection, lent again
        who = (await session.execute(WHO)).scalar_one()
    assert who.split(" ")[0] != "tradebot_app"
    assert who.split(" ")[1:] in ([], [""])


async def test_a_row_of_another_tenant_is_refused_by_row_level_security(one_connection):
    mine, theirs = await make_client(one_connection), await make_client(one_connection)
    forged = insert(BotRun.__table__)  # type: ignore[arg-type]
    with pytest.raises(DBAPIError, match="row-level security") as raised:
        async with tenant_writes(one_connection, ClientScope.of(mine)) as writes:
            await writes.execute(forged, [_run(unique_id("run"), theirs)])
    assert not is_transient(raised.value)  # a bug, not an outage: no retry
    assert await _run_ids(one_connection, theirs) == set()
    async with tenant_writes(one_connection, ClientScope.of(mine)) as writes:  # clean again
        await writes.execute(forged, [_run(unique_id("run"), mine)])
    assert len(await _run_ids(one_connection, mine)) == 1


async def test_writes_commit_together_or_not_at_all(sessions):
    mine = await make_client(sessions)
    runs = insert(BotRun.__table__)  # type: ignore[arg-type]
    kept, lost = [unique_id("run"), unique_id("run")], [unique_id("run"), unique_id("run")]
    async with tenant_writes(sessions, ClientScope.of(mine)) as writes:
        await writes.execute(runs, [_run(run_id, mine) for run_id in kept])
    with pytest.raises(RuntimeError, match="after the first"):
        await _write_then_fail(sessions, ClientScope.of(mine), _run(lost[0], mine))
    with pytest.raises(DBAPIError):  # the second row's key is the first's: the statement fails
        async with tenant_writes(sessions, ClientScope.of(mine)) as writes:
            await writes.execute(runs, [_run(lost[1], mine), _run(lost[1], mine)])
    assert await _run_ids(sessions, mine) == set(kept)
    async with sessions() as session:  # a JSON column went through SQLAlchemy's conversion
        query = select(col(BotRun.state)).where(col(BotRun.id) == kept[0])
        assert (await session.execute(query)).scalar_one() == [1.5]


async def test_a_lost_connection_is_an_outage_and_the_next_write_gets_a_new_one(
    one_connection, pg_admin_url
):
    mine = await make_client(one_connection)
    scope = ClientScope.of(mine)
    with pytest.raises(OperationalError) as raised:
        await _lose_the_connection_midway(one_connection, scope, pg_admin_url)
    assert raised.value.connection_invalidated
    assert is_transient(raised.value)  # the run job tries again
    async with tenant_writes(one_connection, scope) as writes:
        assert await writes.scalars(WHO, ONE) == [f"tradebot_app {mine}"]


async def test_a_write_cancelled_mid_statement_does_not_lend_its_connection_again(one_connection):
    scope = ClientScope.of(await make_client(one_connection))

    async def slow() -> None:
        async with tenant_writes(one_connection, scope) as writes:
            await writes.execute(text("SELECT pg_sleep(:s)"), [{"s": 30}])

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(5):  # not the connection still sleeping, nor one mid-transaction
        async with tenant_writes(one_connection, scope) as writes:
            assert await writes.scalars(WHO, ONE) == [f"tradebot_app {scope.client_id}"]
