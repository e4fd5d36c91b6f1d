"""Fixtures of the API tests (imported by the conftest of each API-facing test package)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.api.fakes import Issuer, StripeStandIn, issuer_server, stripe_server
from tests.venues.sim_fixtures import SimThread, sim_config
from tradebot.api.app import create_app
from tradebot.config import Settings

STRIPE_KEY = "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"
WEBHOOK_SECRET = "whsec_" + "Nf8fQ2kV9xYz3LmP7rT5sW1aB6cD0eGh"
ADMIN_TOKEN = "adm_" + "Q7mZ2pX9vL4kR8tW3nY6bC1dF5gH0jS"
START_S = 90
"""How long a served API may take to answer (seconds on a quiet machine; 30 s was once not
enough on a loaded CI machine)."""
SIM_START = 700
"""The exchange simulator's market stands at the open of the demo week's candle 700."""


@pytest.fixture(scope="session")
def issuer() -> Iterator[Issuer]:
    with issuer_server() as running:
        yield running


@pytest.fixture(scope="session")
def stripe_stand_in() -> Iterator[tuple[StripeStandIn, str]]:
    with stripe_server(STRIPE_KEY) as running:
        yield running


@pytest.fixture
def api_settings(
    pg_url: str, master_key: str, issuer: Issuer, stripe_stand_in: tuple[StripeStandIn, str]
) -> Settings:
    return Settings(
        PG_URL=pg_url,
        CLIENT_MASTER_KEY=master_key,
        AUTH0_ISSUER=issuer.url,
        AUTH0_AUDIENCE=issuer.audience,
        ADMIN_API_TOKEN=ADMIN_TOKEN,
        REDIS_PREFIX=f"tradebot-test-{secrets.token_hex(4)}",
        RUN_QUEUE_NAME=f"tradebot-test-runs-{secrets.token_hex(4)}",
        API_RATE_LIMIT_PER_IP=10_000,
        API_RATE_LIMIT_PER_CLIENT=10_000,
        STRIPE_SECRET_KEY=STRIPE_KEY,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=stripe_stand_in[1],
        STRIPE_PRICE_STARTER="price_starter_test",
        STRIPE_PRICE_PRO="price_pro_test",
    )


AppFactory = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def make_client(api_settings: Settings) -> AsyncIterator[AppFactory]:
    """``await make_client(**setting_overrides, key_check=...)``: a client of a running app."""
    opened: list[tuple[Any, httpx.AsyncClient]] = []

    async def make(key_check: Any = None, **overrides: Any) -> httpx.AsyncClient:
        settings = api_settings.model_copy(update=overrides)
        app: FastAPI = create_app(settings, key_check=key_check)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        opened.append((lifespan, client))
        return client

    yield make
    for lifespan, client in reversed(opened):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest.fixture
async def api(make_client: AppFactory) -> httpx.AsyncClient:
    return await make_client()


@pytest.fixture
def login(issuer: Issuer) -> Callable[..., dict[str, str]]:
    """``login()`` -> headers of a new user's token (``login(sub)`` for a given user)."""

    def headers(sub: str | None = None, **claims: Any) -> dict[str, str]:
        subject = sub or f"auth0|{secrets.token_hex(6)}"
        return {"Authorization": f"Bearer {issuer.token(subject, **claims)}"}

    return headers


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def api_process(
    pg_url: str, master_key: str, issuer: Issuer, stripe_url: str, *args: str, **env: str
) -> Iterator[str]:
    """``tradebot api *args`` as a real uvicorn process on a free loopback port, on the test
    database, issuer and Stripe stand-in (``env`` last); yields its base URL ending in ``/``."""
    port = free_port()
    environment = {
        **os.environ,
        "PG_URL": pg_url,
        "CLIENT_MASTER_KEY": master_key,
        "AUTH0_ISSUER": issuer.url,
        "AUTH0_AUDIENCE": issuer.audience,
        "ADMIN_API_TOKEN": ADMIN_TOKEN,
        "STRIPE_SECRET_KEY": STRIPE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_url,
        "STRIPE_PRICE_PRO": "price_pro_test",
        "REDIS_PREFIX": f"tradebot-test-{secrets.token_hex(4)}",
        "RUN_QUEUE_NAME": f"tradebot-test-runs-{secrets.token_hex(4)}",
        "API_RATE_LIMIT_PER_IP": "100000",
        "API_RATE_LIMIT_PER_CLIENT": "100000",
        **env,
    }
    command = [sys.executable, "-m", "tradebot.cli.main", "api", "--port", str(port), *args]
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                if httpx.get(base + "healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"tradebot api did not answer /healthz within {START_S} s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def served_api(
    pg_url: str, master_key: str, issuer: Issuer, stripe_stand_in: tuple[StripeStandIn, str]
) -> Iterator[str]:
    """Base URL of ``tradebot api`` running as its own process for the module's tests, its
    market data from an exchange simulator (no test asks the real exchange)."""
    with (
        SimThread(sim_config(start_index=SIM_START)) as exchange,
        api_process(
            pg_url, master_key, issuer, stripe_stand_in[1], EXCHANGE_SANDBOX_URL=exchange.url
        ) as base,
    ):
        yield base
