"""Tenant isolation, twice: the repositories' scope, and PostgreSQL row-level security.

Each test sets up two clients with a row in every tenant table, then acts as one of them and
tries to read, change and delete the other's rows; the other's rows must be untouched.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.clients.factories import TENANT_TABLES, make_client, make_tenant_rows
from tradebot.clients.repository import ClientRepository
from tradebot.credentials.repository import CredentialRepository
from tradebot.db import create_engine, session_factory, transaction
from tradebot.errors import NotFoundError
from tradebot.kit.repository import ScopedRepository
from tradebot.kit.scope import ClientMismatchError, ClientScope, client_transaction, process_scope
from tradebot.models.runs import BotRun

TABLES = list(TENANT_TABLES)


class RunRows(ScopedRepository[BotRun]):
    model = BotRun
    noun = "run"


async def _counts(sessions, client_id: str) -> dict[str, int]:
    """Rows of ``client_id`` per table, read by the operator (no tenant set)."""
    async with transaction(sessions) as session:
        counts = {
            table: (
                await session.execute(
                    text(f"SELECT count(*) FROM {table} WHERE client_id = :c"), {"c": client_id}
                )
            ).scalar_one()
            for table in TABLES
        }
        counts["clients"] = (
            await session.execute(
                text("SELECT count(*) FROM clients WHERE id = :c"), {"c": client_id}
            )
        ).scalar_one()
    return counts


@pytest.fixture(params=["postgresql", "sqlite"])
async def two_tenants(request, pg_sessions, sqlite_url):
    """(sessions, mine, theirs, their run id) with a row in every tenant table for both."""
    if request.param == "postgresql":
        sessions, engine = pg_sessions, None
    else:
        engine = create_engine(sqlite_url)
        sessions = session_factory(engine)
    mine, theirs = await make_client(sessions), await make_client(sessions)
    await make_tenant_rows(sessions, mine)
    their_run = await make_tenant_rows(sessions, theirs)
    yield sessions, mine, theirs, their_run
    if engine is not None:
        await engine.dispose()


async def test_repository_reads_a_foreign_id_as_not_found(two_tenants):
    sessions, mine, theirs, their_run = two_tenants
    scope = ClientScope.of(mine)
    async with client_transaction(sessions, scope) as session:
        runs = RunRows(session, scope)
        assert await runs.find(their_run) is None
        with pytest.raises(NotFoundError, match="not found"):
            await runs.get(their_run)
        assert {r.client_id for r in await runs.list()} == {mine}
        assert [c.client_id for c in await CredentialRepository(session, scope).all()] == [mine]
        with pytest.raises(NotFoundError):
            await ClientRepository(session, scope).get(theirs)


async def test_repository_cannot_change_or_delete_a_foreign_row(two_tenants):
    sessions, mine, theirs, their_run = two_tenants
    before = await _counts(sessions, theirs)
    scope = ClientScope.of(mine)
    async with client_transaction(sessions, scope) as session:
        runs = RunRows(session, scope)
        with pytest.raises(NotFoundError):
            await runs.delete(their_run)
        changed = await session.execute(
            runs._update().where(BotRun.id == their_run).values(status="stopped")
        )
        assert changed.rowcount == 0
    async with transaction(sessions) as session:
        assert (await session.get(BotRun, their_run)).status == "created"
    assert await _counts(sessions, theirs) == before


async def test_repository_refuses_to_write_a_row_for_another_client(two_tenants):
    sessions, mine, theirs, _ = two_tenants
    before = await _counts(sessions, theirs)
    scope = ClientScope.of(mine)
    with pytest.raises(ClientMismatchError, match=theirs):
        async with client_transaction(sessions, scope) as session:
            await RunRows(session, scope).add(
                BotRun(
                    id="intruder-" + mine,
                    client_id=theirs,
                    mode="paper",
                    exchange="binance",
                    pair="BTC/USDT",
                    base_ts=0,
                )
            )
    assert await _counts(sessions, theirs) == before


def test_process_scope_refuses_another_client():
    assert process_scope("acme").client_id == "acme"
    assert process_scope("acme", "acme").client_id == "acme"
    with pytest.raises(ClientMismatchError, match="'other'"):
        process_scope("acme", "other")


async def _raw_as_app_role(app_role_url, tenant: str | None, statements):
    """Run raw SQL as the application role's login in one transaction; returns the results."""
    engine = create_engine(app_role_url)
    results = []
    try:
        async with engine.begin() as conn:
            if tenant is not None:
                await conn.execute(
                    text("SELECT set_config('app.client_id', :c, true)"), {"c": tenant}
                )
            for statement, params in statements:
                results.append(await conn.execute(text(statement), params))
    finally:
        await engine.dispose()
    return results


async def test_app_role_without_a_tenant_sees_no_rows(pg_sessions, app_role_url):
    await make_tenant_rows(pg_sessions, await make_client(pg_sessions))
    results = await _raw_as_app_role(
        app_role_url, None, [(f"SELECT count(*) FROM {t}", {}) for t in [*TABLES, "clients"]]
    )
    assert [r.scalar_one() for r in results] == [0] * (len(TABLES) + 1)


async def test_app_role_raw_sql_cannot_read_change_or_delete_another_tenant(
    pg_sessions, app_role_url
):
    mine, theirs = await make_client(pg_sessions), await make_client(pg_sessions)
    await make_tenant_rows(pg_sessions, mine)
    await make_tenant_rows(pg_sessions, theirs)
    before = await _counts(pg_sessions, theirs)
    reads = [(f"SELECT count(*) FROM {t} WHERE client_id = :c", {"c": theirs}) for t in TABLES]
    writes = [
        (f"UPDATE {t} SET client_id = client_id WHERE client_id = :c", {"c": theirs})
        for t in TABLES
        if t != "audit_log"
    ] + [
        (f"DELETE FROM {t} WHERE client_id = :c", {"c": theirs})
        for t in reversed(TABLES)
        if t != "audit_log"
    ]
    results = await _raw_as_app_role(
        app_role_url,
        mine,
        [
            *reads,
            ("SELECT count(*) FROM clients", {}),
            ("UPDATE clients SET name = 'pwned' WHERE id = :c", {"c": theirs}),
            *writes,
        ],
    )
    assert [r.scalar_one() for r in results[: len(reads)]] == [0] * len(reads)
    assert results[len(reads)].scalar_one() == 1  # its own client row only
    assert all(r.rowcount == 0 for r in results[len(reads) + 1 :])
    assert await _counts(pg_sessions, theirs) == before


async def test_app_role_cannot_insert_a_row_for_another_tenant(pg_sessions, app_role_url):
    mine, theirs = await make_client(pg_sessions), await make_client(pg_sessions)
    before = await _counts(pg_sessions, theirs)
    with pytest.raises(DBAPIError, match="row-level security"):
        await _raw_as_app_role(
            app_role_url,
            mine,
            [
                (
                    "INSERT INTO audit_log (client_id, actor, action, target, details, at) "
                    "VALUES (:c, 'x', 'forged', '', '{}', now())",
                    {"c": theirs},
                )
            ],
        )
    assert await _counts(pg_sessions, theirs) == before


async def test_app_role_cannot_read_or_delete_audit_entries_of_the_operator(
    pg_sessions, app_role_url
):
    mine = await make_client(pg_sessions)
    with pytest.raises(DBAPIError, match="permission denied"):
        await _raw_as_app_role(app_role_url, mine, [("DELETE FROM audit_log", {})])


async def test_tenant_transaction_on_the_owner_connection_runs_as_the_app_role(pg_url):
    engine = create_engine(pg_url, pool_size=1, max_overflow=0)  # one connection, reused
    sessions = session_factory(engine)
    try:
        mine, theirs = await make_client(sessions), await make_client(sessions)
        await make_tenant_rows(sessions, mine)
        await make_tenant_rows(sessions, theirs)
        async with client_transaction(sessions, ClientScope.of(mine)) as session:
            # Raw SQL that forgot its filter: row-level security still scopes it.
            owners = set((await session.execute(text("SELECT client_id FROM bot_runs"))).scalars())
            role = (await session.execute(text("SELECT current_user"))).scalar_one()
        assert owners == {mine}
        assert role == "tradebot_app"
        async with transaction(sessions) as session:
            # Both settings were transaction-local: the connection is the operator's again.
            role = (await session.execute(text("SELECT current_user"))).scalar_one()
            seen = set((await session.execute(select(BotRun.client_id))).scalars())
        assert role != "tradebot_app"
        assert {mine, theirs} <= seen
    finally:
        await engine.dispose()
