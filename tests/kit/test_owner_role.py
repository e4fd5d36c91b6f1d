"""Row-level security as deployed: the database owned and migrated by an ordinary role (not a
superuser, which would bypass every policy). The owner sees all clients only while no tenant is
set; inside a tenant transaction it is scoped like the application role."""

from __future__ import annotations

import secrets

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text

from tests.clients.factories import make_client, make_tenant_rows
from tests.conftest import PG_HOST, PG_PASSWORD, PG_PORT, PG_USER, pg_url_for
from tradebot.db import create_engine, session_factory, transaction
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.migrations import upgrade


def _admin(sql_text: sql.Composable) -> None:
    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, password=PG_PASSWORD, dbname="postgres",
        autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute(sql_text)


@pytest.fixture
def owner_database():
    """(owner role, database) created for this test, the database owned by the role."""
    owner = f"tb_owner_{secrets.token_hex(4)}"
    database = f"tradebot_owned_{secrets.token_hex(4)}"
    _admin(sql.SQL("CREATE ROLE {} LOGIN CREATEROLE").format(sql.Identifier(owner)))
    _admin(
        sql.SQL("CREATE DATABASE {} OWNER {}").format(
            sql.Identifier(database), sql.Identifier(owner)
        )
    )
    try:
        yield owner, database
    finally:
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        _admin(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(owner)))


async def test_owner_sees_every_client_only_while_no_tenant_is_set(owner_database):
    owner, database = owner_database
    url = pg_url_for(database, user=owner)
    upgrade(url)
    engine = create_engine(url, pool_size=1, max_overflow=0)
    sessions = session_factory(engine)
    try:
        mine, theirs = await make_client(sessions), await make_client(sessions)
        await make_tenant_rows(sessions, mine)
        await make_tenant_rows(sessions, theirs)
        async with transaction(sessions) as session:
            everyone = set((await session.execute(text("SELECT id FROM clients"))).scalars())
            assert {mine, theirs, "default"} <= everyone
            # The owner setting the tenant by hand (no role switch) is scoped as well: FORCE.
            await session.execute(text("SELECT set_config('app.client_id', :c, true)"), {"c": mine})
            runs = set((await session.execute(text("SELECT client_id FROM bot_runs"))).scalars())
            assert runs == {mine}
        async with client_transaction(sessions, ClientScope.of(mine)) as session:
            role = (await session.execute(text("SELECT current_user"))).scalar_one()
            seen = set((await session.execute(text("SELECT id FROM clients"))).scalars())
            touched = await session.execute(
                text("UPDATE bot_runs SET status = 'stopped' WHERE client_id = :c"), {"c": theirs}
            )
        assert (role, seen, touched.rowcount) == ("tradebot_app", {mine}, 0)
    finally:
        await engine.dispose()
