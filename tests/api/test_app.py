"""The API's database engine: a connection the server closed is never handed to a request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
from sqlalchemy import text


async def test_a_connection_closed_by_the_database_is_replaced_before_use(
    make_client: Callable[..., Any],
    login: Callable[..., dict[str, str]],
    pg_admin_url: str,
) -> None:
    api: httpx.AsyncClient = await make_client()
    headers = login()
    assert (await api.get("/me", headers=headers)).status_code == 200
    engine = api._transport.app.state.context.engine  # type: ignore[attr-defined]
    async with engine.connect() as connection:  # the pooled connection the next request gets
        pid = await connection.scalar(text("SELECT pg_backend_pid()"))
    with psycopg.connect(pg_admin_url.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    await asyncio.sleep(0.2)  # the server's goodbye reaches the connection
    again = await api.get("/me", headers=headers)
    assert again.status_code == 200, again.text
