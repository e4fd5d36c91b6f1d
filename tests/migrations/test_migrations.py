"""The migrations: up and down on real PostgreSQL and on SQLite, and in step with the models."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from tests.clients.factories import TENANT_TABLES as FILLED_TABLES
from tradebot.db import create_engine as create_async_engine
from tradebot.migrations import (
    HEAD,
    alembic_config,
    downgrade,
    migrated,
    sync_url,
    target_metadata,
    upgrade,
)

TENANT_TABLES = {"clients", *FILLED_TABLES}

# Tables with a client column that are deliberately not tenant-scoped, and why.
NOT_TENANT_SCOPED = {
    "users": "a login is resolved to its client before any tenant can be set (migration 0003)",
    "telegram_chats": "a Telegram message names only its chat, resolved to its client before any "
    "tenant can be set (migration 0008)",
    "public_track_records": "a visitor names only the slug, resolved to its client before any "
    "tenant can be set (migration 0010)",
}


def _diff(url: str) -> list[object]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, target_metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_postgresql_schema_at_head_matches_the_models(pg_url):
    assert _diff(pg_url) == []


def test_sqlite_schema_at_head_matches_the_models(sqlite_url):
    assert _diff(sqlite_url) == []


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_upgrade_downgrade_upgrade_round_trips(backend, fresh_pg_url, tmp_path):
    url = fresh_pg_url if backend == "postgresql" else f"sqlite+aiosqlite:///{tmp_path}/m.db"
    upgrade(url)
    assert _tables(url) == {t.name for t in target_metadata.sorted_tables}
    downgrade(url, "base")
    assert _tables(url) == set()
    upgrade(url)
    assert _diff(url) == []


def test_every_table_with_a_client_column_forces_row_level_security(pg_admin_url):
    engine = create_engine(pg_admin_url)
    try:
        with engine.connect() as conn:
            with_client = set(
                conn.scalars(
                    text(
                        "SELECT table_name FROM information_schema.columns "
                        "WHERE table_schema = 'public' AND column_name = 'client_id'"
                    )
                )
            )
            forced = {
                row.relname: (row.relrowsecurity, row.relforcerowsecurity)
                for row in conn.execute(
                    text(
                        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                        "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
                    )
                )
            }
            policies = set(conn.scalars(text("SELECT tablename FROM pg_policies")))
    finally:
        engine.dispose()
    tenant_tables = (with_client | {"clients"}) - set(NOT_TENANT_SCOPED)
    assert tenant_tables >= TENANT_TABLES
    for table in sorted(tenant_tables):
        # A new tenant table's migration must call tradebot.kit.rls.enable_tenant_rls.
        assert forced[table] == (True, True), f"{table}: row-level security not forced"
        assert table in policies, f"{table}: no row-level security policy"


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_fill_counter_migration_counts_the_fills_already_stored(backend, fresh_pg_url, tmp_path):
    url = fresh_pg_url if backend == "postgresql" else f"sqlite+aiosqlite:///{tmp_path}/m.db"
    upgrade(url, "0003")
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as conn:
            for run, fills in (("r-many", 3), ("r-none", 0)):
                conn.execute(
                    text(
                        "INSERT INTO bot_runs (id, client_id, mode, exchange, pair, status, config,"
                        " state, base_ts, clock_ts, owner, created_at, updated_at) VALUES (:run,"
                        " 'default', 'paper', 'binance', 'BTC/USDT', 'running', '{}', '[]', 0, 0,"
                        " '', '2026-01-01', '2026-01-01')"
                    ),
                    {"run": run},
                )
                for n in range(fills):
                    conn.execute(
                        text(
                            "INSERT INTO bot_fills (client_id, run_id, client_order_id, trade_id,"
                            " ts, side, line, price, qty, fee, fee_currency) VALUES ('default',"
                            " :run, 'o', :trade, 0, 'buy', 1, 100, 1, 0.1, 'USDT')"
                        ),
                        {"run": run, "trade": f"t{n}"},
                    )
        upgrade(url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, fill_count FROM bot_runs")).all()
    finally:
        engine.dispose()
    assert {run: count for run, count in rows} == {"r-many": 3, "r-none": 0}


def _version(url: str) -> str | None:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()


def test_head_is_the_newest_script():
    # A new migration must move HEAD too, or processes would start on a database behind it.
    assert ScriptDirectory.from_config(alembic_config("unused")).get_current_head() == HEAD


@pytest.mark.parametrize("start", [None, "0012"])
async def test_a_database_behind_is_migrated_at_a_start(fresh_pg_url, start):
    if start is not None:
        upgrade(fresh_pg_url, start)
    engine = create_async_engine(fresh_pg_url)
    try:
        await migrated(engine, fresh_pg_url)
    finally:
        await engine.dispose()
    assert _version(fresh_pg_url) == HEAD
    assert _diff(fresh_pg_url) == []


async def test_a_database_at_head_starts_without_alembic(pg_url, caplog):
    caplog.set_level(logging.INFO, logger="alembic")
    upgrade(pg_url)
    assert any(r.name.startswith("alembic") for r in caplog.records)  # Alembic says it ran
    caplog.clear()
    engine = create_async_engine(pg_url)
    try:
        await migrated(engine, pg_url)
    finally:
        await engine.dispose()
    assert [r.getMessage() for r in caplog.records if r.name.startswith("alembic")] == []


def test_replicas_migrating_together_take_turns(fresh_pg_url):
    # Naive: two API replicas started with --migrate both create the tables; one fails with
    # "already exists" and its pod restarts (or, on a later migration, applies it twice).
    code = f"from tradebot.migrations import upgrade; upgrade({fresh_pg_url!r})"
    replicas = [
        subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(3)
    ]
    errors = [replica.communicate(timeout=120)[1].decode() for replica in replicas]
    assert [replica.returncode for replica in replicas] == [0, 0, 0], errors
    assert _version(fresh_pg_url) == HEAD
    assert _diff(fresh_pg_url) == []
