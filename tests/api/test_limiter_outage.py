"""The API limiter with Redis down (connection refused) or silent (accepts, never answers):
requests go through at their usual speed, and the outage is one warning, not one per request.

Naive implementation caught: each request waited for Redis's answer forever when Redis was
silent (no timeout on the count), and a warning line per request when it was down.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from tests.api.fixtures import AppFactory

REQUESTS = 12


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again on return: connections are refused


@asynccontextmanager
async def _silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts, reads and never answers: a Redis that hangs."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        while await reader.read(4096):
            pass

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        for writer in held:
            writer.close()
        server.close()


@pytest.mark.parametrize("redis", ["refused", "silent"])
async def test_requests_go_through_when_redis_does_not_answer(
    make_client: AppFactory,
    login: Callable[..., dict[str, str]],
    caplog: pytest.LogCaptureFixture,
    redis: str,
) -> None:
    async with _silent_server() as silent_port:
        port = _closed_port() if redis == "refused" else silent_port
        api = await make_client(
            REDIS_URL=f"redis://127.0.0.1:{port}/0",
            API_RATE_LIMIT_PER_IP=300,
            API_RATE_LIMIT_PER_CLIENT=600,
        )
        user = login()
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, "tradebot.kit.ratelimit"):
            for _ in range(REQUESTS):
                response = await asyncio.wait_for(api.get("/me", headers=user), timeout=5)
                assert response.status_code == 200, response.text
        elapsed = time.monotonic() - started
    # At most one count waits out the timeout; the rest skip Redis for the outage's pause.
    assert elapsed < 2.0, f"{REQUESTS} requests took {elapsed:.2f} s"
    outages = [r for r in caplog.records if "rate limiter unavailable" in r.getMessage()]
    assert len(outages) == 1, [r.getMessage() for r in caplog.records]
