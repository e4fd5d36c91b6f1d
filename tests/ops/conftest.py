"""Fixtures of the operations tests: sessions on the session database, worker settings, and
``tradebot ops-server`` as a real process."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.fixtures import free_port
from tests.workers.fixtures import worker_env  # noqa: F401  (a shared fixture)
from tradebot.db import create_engine, session_factory

OPS_TOKEN = "ops_" + secrets.token_hex(24)
"""Hex: a URL-safe token holds a placeholder word ("xxx", "todo") about once in a thousand, and
the settings refuse it (two tests of one CI run failed so)."""


@pytest.fixture
async def sessions(pg_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(pg_url)
    yield session_factory(engine)
    await engine.dispose()


@dataclass(frozen=True)
class OpsServer:
    kill_switch: str
    dashboard: str
    token: str = OPS_TOKEN

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextmanager
def ops_server(
    pg_url: str, queue_name: str, ports: tuple[int, int] | None = None
) -> Iterator[OpsServer]:
    """``tradebot ops-server`` on free loopback ports (or ``ports``), until the block ends."""
    kill_port, dashboard_port = ports or (free_port(), free_port())
    environment = {
        **os.environ,
        "PG_URL": pg_url,
        "ADMIN_API_TOKEN": OPS_TOKEN,
        "RUN_QUEUE_NAME": queue_name,
        "KILL_SWITCH_PORT": str(kill_port),
        "DASHBOARD_PORT": str(dashboard_port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tradebot.cli.main", "ops-server"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = OpsServer(f"http://127.0.0.1:{kill_port}", f"http://127.0.0.1:{dashboard_port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                answers = [
                    httpx.get(f"{server.dashboard}/api/status", headers=server.auth, timeout=2),
                    httpx.post(f"{server.kill_switch}/kill-switch/trip", timeout=2),
                ]
                if [a.status_code for a in answers] == [200, 401]:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "tradebot ops-server did not answer in 30 s"
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
