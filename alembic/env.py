"""Alembic environment: migrations run on a synchronous driver (psycopg / sqlite3), so they can
be started from anywhere, including from inside a running event loop via a thread."""

from __future__ import annotations

from typing import Any, Final

from alembic import context
from sqlalchemy import create_engine, pool, text

from tradebot.migrations import sync_url, target_metadata

config = context.config
MIGRATION_LOCK: Final = 0x7472616465626F74
"""PostgreSQL advisory lock of a migration ("tradebot"): replicas started together with
``--migrate`` take turns; the later ones find the database at head and do nothing."""


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        from tradebot.config import load_settings

        url = load_settings().database_url
    return sync_url(url)


def run_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Held to the end of the transaction; the version is read after it is taken.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
