"""Fixtures of the API tests (imported by the conftest of each API-facing test package)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.api.fakes import Issuer, StripeStandIn, issuer_server, stripe_server
from tradebot.api.app import create_app
from tradebot.config import Settings

STRIPE_KEY = "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"
WEBHOOK_SECRET = "whsec_" + "Nf8fQ2kV9xYz3LmP7rT5sW1aB6cD0eGh"
ADMIN_TOKEN = "adm_" + "Q7mZ2pX9vL4kR8tW3nY6bC1dF5gH0jS"


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
