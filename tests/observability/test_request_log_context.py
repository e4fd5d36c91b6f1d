"""Every JSON line of an API request says whose it is: ``client_id`` from the caller (or, on an
operator route about a client, from the path), and ``run_id`` and ``pair`` on a route about a
run; the next request starts with none of them.

Read from the lines a real ``tradebot api`` process writes (its access log on), as its
``LOG_INGEST_WEBHOOK`` receives them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import structlog

from tests.api.factories import GRID
from tests.api.fakes import Issuer, StripeStandIn
from tests.api.fixtures import ADMIN_TOKEN, AppFactory, api_process
from tests.observability.receivers import Received, storing_receiver
from tradebot.observability.logs import bind_log_context


@pytest.fixture(scope="module")
def logged_api(
    pg_url: str, master_key: str, issuer: Issuer, stripe_stand_in: tuple[StripeStandIn, str]
) -> Iterator[tuple[str, Received]]:
    with (
        storing_receiver() as (url, received),
        api_process(
            pg_url, master_key, issuer, stripe_stand_in[1],
            LOG_INGEST_WEBHOOK=url, API_ACCESS_LOG="1",
        ) as base,
    ):  # fmt: skip
        yield base, received


def _access_lines(received: Received, path: str) -> list[dict[str, Any]]:
    return [
        entry
        for entry in received.entries
        if entry.get("logger") == "uvicorn.access" and f" {path} HTTP" in entry["event"]
    ]


def _wait_for(received: Received, path: str, count: int = 1) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15
    while len(lines := _access_lines(received, path)) < count:
        assert time.monotonic() < deadline, f"no access line for {path} reached the webhook"
        time.sleep(0.1)
    return lines


def test_request_lines_carry_the_client_and_the_run_then_nothing_after(
    logged_api: tuple[str, Received], issuer: Issuer
) -> None:
    base, received = logged_api
    headers = {"Authorization": f"Bearer {issuer.token('auth0|log-context-user')}"}
    client_id = httpx.get(base + "me", headers=headers).json()["client_id"]
    bot = httpx.post(
        base + "bots",
        json={"name": "eth grid", "pair": "ETH/USDT", "grid": GRID},
        headers=headers,
    ).json()
    started = httpx.post(base + "runs", json={"bot_id": bot["id"]}, headers=headers)
    assert started.status_code in (201, 202), started.text
    run_id = started.json()["id"]

    assert httpx.get(f"{base}runs/{run_id}", headers=headers).status_code == 200
    assert httpx.get(f"{base}runs/{run_id}/fills", headers=headers).status_code == 200
    operator = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert httpx.get(f"{base}clients/{client_id}", headers=operator).status_code == 200
    assert httpx.get(base + "healthz").status_code == 200

    (me,) = _wait_for(received, "/me")
    assert me["client_id"] == client_id
    assert "run_id" not in me
    for path in (f"/runs/{run_id}", f"/runs/{run_id}/fills"):
        (line,) = _wait_for(received, path)
        assert (line["client_id"], line["run_id"], line["pair"]) == (
            client_id,
            run_id,
            "ETH/USDT",
        ), line
    (about_client,) = _wait_for(received, f"/clients/{client_id}")
    assert about_client["client_id"] == client_id
    health = _wait_for(received, "/healthz")[-1]  # after the run's requests
    assert not {"client_id", "run_id", "pair"} & set(health), health


def test_lines_of_concurrent_requests_keep_their_own_client(
    logged_api: tuple[str, Received], issuer: Issuer
) -> None:
    base, received = logged_api
    users = [f"auth0|log-context-{n}" for n in range(4)]
    tokens = {user: {"Authorization": f"Bearer {issuer.token(user)}"} for user in users}
    clients = {user: httpx.get(base + "me", headers=tokens[user]).json()["client_id"]
               for user in users}  # fmt: skip

    def ask(user: str) -> int:
        # A run id of the caller's own client id: another client's line would name it wrongly.
        return httpx.get(f"{base}runs/of-{clients[user]}", headers=tokens[user]).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(ask, users * 5)) == {404}

    for user in users:
        lines = _wait_for(received, f"/runs/of-{clients[user]}", 5)
        assert {(line["client_id"], line["run_id"]) for line in lines} == {
            (clients[user], f"of-{clients[user]}")
        }


async def test_an_app_called_in_the_callers_task_leaves_the_callers_context_as_it_was(
    make_client: AppFactory, login: Callable[..., dict[str, str]]
) -> None:
    api = await make_client()  # httpx.ASGITransport: the request runs in this task
    structlog.contextvars.clear_contextvars()
    bind_log_context(run_id="the-callers-run")
    try:
        me = await api.get("/me", headers=login())
        assert me.status_code == 200
        assert structlog.contextvars.get_contextvars() == {"run_id": "the-callers-run"}
    finally:
        structlog.contextvars.clear_contextvars()
