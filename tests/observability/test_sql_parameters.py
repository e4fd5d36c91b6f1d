"""A failed statement's traceback in the logs names the statement, never the row's values.

SQLAlchemy's error text carries a ``[parameters: ...]`` line: a tenant's names, emails and
amounts, printed by every traceback of it (ours, and uvicorn's now that it logs through our
handler)."""

from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tradebot.observability.logs import configure_logging

PRIVATE = "private-owner@example.test"


async def test_a_failed_statement_is_logged_without_its_parameters(pg_engine: AsyncEngine) -> None:
    with pytest.raises(DBAPIError) as failed:
        async with pg_engine.connect() as connection:
            await connection.execute(
                text("SELECT CAST(:owner AS text), CAST(:name AS text)"),
                {"owner": PRIVATE, "name": "a\x00b"},
            )
    assert PRIVATE in str(failed.value)  # SQLAlchemy's own text has them
    configure_logging("INFO")
    captured = io.StringIO()
    handler = logging.getLogger().handlers[0]
    handler.setStream(captured)  # type: ignore[attr-defined]
    logging.getLogger("uvicorn.error").error("Exception in ASGI application", exc_info=failed.value)
    logged = captured.getvalue()
    assert "SELECT CAST" in logged
    assert "[parameters: ***]" in logged
    assert PRIVATE not in logged
