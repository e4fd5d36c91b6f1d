"""Per-IP and per-client rate limits (Redis, 429 + Retry-After) and the request size limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.api.factories import customer


async def test_per_ip_limit_is_429_with_retry_after(make_client: Callable[..., Any]) -> None:
    api: httpx.AsyncClient = await make_client(API_RATE_LIMIT_PER_IP=3)
    statuses = [(await api.get("/billing/plans")).status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429]
    limited = await api.get("/billing/plans")
    assert limited.headers["content-type"] == "application/problem+json"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


async def test_per_client_limit_counts_each_client_apart(
    make_client: Callable[..., Any], login: Callable[..., dict[str, str]]
) -> None:
    api: httpx.AsyncClient = await make_client(API_RATE_LIMIT_PER_CLIENT=3)
    ana, _ = await customer(api, login)
    bob, _ = await customer(api, login)
    ana_statuses = [(await api.get("/bots", headers=ana)).status_code for _ in range(3)]
    assert ana_statuses == [200, 200, 429]
    assert (await api.get("/bots", headers=bob)).status_code == 200


async def test_body_over_the_limit_is_413_before_any_route(
    make_client: Callable[..., Any], login: Callable[..., dict[str, str]]
) -> None:
    api: httpx.AsyncClient = await make_client(API_MAX_BODY_BYTES=2048)
    headers, _ = await customer(api, login)
    big = {"name": "x" * 4096, "grid": {}}
    response = await api.post("/bots", json=big, headers=headers)
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/too-large"

    async def chunks() -> Any:  # no Content-Length: counted as it arrives
        for _ in range(8):
            yield b"x" * 512

    streamed = await api.post("/bots", content=chunks(), headers=headers)
    assert streamed.status_code == 413
