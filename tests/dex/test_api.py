"""``POST /dex/check-sell``: Pro and above only, rate-limited per client, public nodes only.

The test node is on loopback, which the route refuses unless DEX_PRIVATE_NODES is set: the
app here sets it (and a test without it checks the refusal).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.api.factories import customer, subscribe
from tests.dex.conftest import World
from tests.dex.evm import free_port
from tradebot.api.app import create_app
from tradebot.clients.plans import PLANS, PlanName
from tradebot.config import Settings
from tradebot.dex.errors import DexInputError
from tradebot.dex.service import public_nodes_only

Login = Callable[..., dict[str, str]]


@contextlib.asynccontextmanager
async def _served(settings: Settings, **update: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"DEX_PRIVATE_NODES": True, **update}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
async def api(api_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with _served(api_settings) as client:
        yield client


def _body(world: World, token: str, **fields: Any) -> dict[str, Any]:
    return {
        "rpc_url": world.url,
        "router": world.router,
        "token": world.tokens.get(token, token),
        "amount": "0.1",
        **fields,
    }


async def _pro(api: httpx.AsyncClient, login: Login) -> dict[str, str]:
    headers, client_id = await customer(api, login)
    await subscribe(api, client_id, "pro")
    return headers


async def test_a_pro_client_gets_the_verdict(world: World, api: httpx.AsyncClient, login: Login):
    headers = await _pro(api, login)
    response = await api.post("/dex/check-sell", json=_body(world, "fee"), headers=headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["sellable"] == "yes"
    assert (result["buy_tax_pct"], result["sell_tax_pct"]) == ("5.0000", "12.0000")
    assert result["flags"] == ["high_sell_tax"]
    honeypot = await api.post("/dex/check-sell", json=_body(world, "honeypot"), headers=headers)
    assert honeypot.json()["sellable"] == "no"


@pytest.mark.parametrize("plan", ["trial", "starter"])
async def test_trial_and_starter_clients_are_refused_with_a_problem_body(
    world: World, api: httpx.AsyncClient, login: Login, plan: str
) -> None:
    headers, client_id = await customer(api, login)
    if plan != "trial":
        await subscribe(api, client_id, plan)
    response = await api.post("/dex/check-sell", json=_body(world, "plain"), headers=headers)
    assert response.status_code == 402
    assert response.headers["content-type"] == "application/problem+json"
    assert "Pro and above" in response.json()["detail"]


async def test_no_token_is_refused_before_anything(world: World, api: httpx.AsyncClient) -> None:
    response = await api.post("/dex/check-sell", json=_body(world, "plain"))
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("fields", "status", "slug"),
    [
        ({"token": "0x1234"}, 422, "validation"),
        ({"amount": "-1"}, 422, "validation"),
        ({"rpc_url": "file:///etc/passwd"}, 422, "validation"),
        ({"surprise": 1}, 422, "validation"),
        ({"token": "0x" + "12" * 20}, 422, "bad-input"),
        ({"token": "no_pool"}, 422, "bad-input"),
    ],
)
async def test_invalid_input_is_a_4xx_problem(
    world: World,
    api: httpx.AsyncClient,
    login: Login,
    fields: dict[str, Any],
    status: int,
    slug: str,
) -> None:
    headers = await _pro(api, login)
    body = {**_body(world, "plain"), **fields}
    body["token"] = world.tokens.get(body["token"], body["token"])
    response = await api.post("/dex/check-sell", json=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["type"] == f"/problems/{slug}"


async def test_a_dead_node_is_a_502_problem_that_says_so(
    world: World, api: httpx.AsyncClient, login: Login
) -> None:
    headers = await _pro(api, login)
    body = _body(world, "plain", rpc_url=f"http://127.0.0.1:{free_port()}")
    response = await api.post("/dex/check-sell", json=body, headers=headers)
    assert response.status_code == 502
    assert response.json()["type"] == "/problems/node-unavailable"
    assert response.json()["title"] == "The blockchain node did not answer"


async def test_checks_are_rate_limited_per_client(
    world: World, api_settings: Settings, login: Login
) -> None:
    async with _served(api_settings, DEX_CHECKS_PER_WINDOW=2) as api:
        ana, bob = await _pro(api, login), await _pro(api, login)
        body = _body(world, "plain")
        statuses = [(await api.post("/dex/check-sell", json=body, headers=ana)).status_code]
        statuses += [(await api.post("/dex/check-sell", json=body, headers=ana)).status_code]
        limited = await api.post("/dex/check-sell", json=body, headers=ana)
        assert statuses == [200, 200]
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert (await api.post("/dex/check-sell", json=body, headers=bob)).status_code == 200


async def test_a_loopback_node_is_refused_unless_private_nodes_are_allowed(
    world: World, api_settings: Settings, login: Login
) -> None:
    app = create_app(api_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
            response = await api.post(
                "/dex/check-sell", json=_body(world, "plain"), headers=await _pro(api, login)
            )
    assert response.status_code == 422
    assert "not a public address" in response.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8545",
        "http://localhost:8545",
        "http://169.254.169.254/",
        "http://10.0.0.1",
    ],
)
async def test_the_route_calls_public_nodes_only(url: str) -> None:
    with pytest.raises(DexInputError, match="not a public address"):
        await public_nodes_only(url)


@pytest.mark.parametrize("plan", ["trial", "starter", "pro"])
async def test_access_follows_the_plans_dex_checks_field_and_says_why_not(
    api: httpx.AsyncClient, login: Login, plan: str
) -> None:
    headers, client_id = await customer(api, login)
    if plan != "trial":
        await subscribe(api, client_id, plan)
    access = (await api.get("/dex/access", headers=headers)).json()
    included = PLANS[PlanName(plan)].dex_checks
    assert (access["plan"], access["available"]) == (plan, included)
    assert access["included_in"] == "Pro and above"
    assert access["checks_per_window"] == 20
    if included:
        assert access["reason"] is None
    else:
        assert access["reason"] == f"DEX sell checks are not in the {plan} plan (Pro and above)"


def test_only_the_plans_from_pro_up_include_dex_checks() -> None:
    assert {name for name, spec in PLANS.items() if spec.dex_checks} == {
        PlanName.PRO,
        PlanName.MANAGED,
    }


async def test_access_needs_a_token(api: httpx.AsyncClient) -> None:
    assert (await api.get("/dex/access")).status_code == 401
