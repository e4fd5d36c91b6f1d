"""Run the Alembic migrations from code (the CLI, the tests and every process start use this)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

target_metadata = SQLModel.metadata
HEAD: Final = "0013"
"""The newest migration's revision (a test holds it in step with the scripts): a process whose
database is already there starts without Alembic, which loads every script and connects again
(0.4 s of a run process's restart on a quiet machine, seconds on a loaded one)."""
SCRIPTS = Path(__file__).resolve().parent / "migration_scripts"
"""The top-level ``alembic/`` folder (a link inside the package, so an installed wheel has it)."""


def sync_url(url: str) -> str:
    """The same database through a synchronous driver (Alembic runs synchronously)."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite+aiosqlite", "sqlite"):
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


async def migrated(engine: AsyncEngine, url: str) -> None:
    """Bring the database of ``engine`` (at ``url``) to the newest migration, unless it is
    there already (one query)."""
    try:
        async with engine.connect() as connection:
            version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:  # no such table (a new database); any other failure, Alembic meets too
        version = None
    if version != HEAD:
        await asyncio.to_thread(upgrade, url)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)
