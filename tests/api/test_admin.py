"""Operator routes: the seed's ``/clients`` verbs, guard reset, runs across clients, KPIs."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.api.factories import customer, new_bot, subscribe
from tests.api.fixtures import AppFactory
from tradebot.api.app import create_app
from tradebot.clients.plans import plan_spec
from tradebot.config import Settings


async def test_operator_lists_and_updates_clients(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]], admin_headers: dict[str, str]
) -> None:
    _, client_id = await customer(api, login)
    clients = (await api.get("/clients", headers=admin_headers)).json()
    assert client_id in {c["id"] for c in clients}
    body = {"name": "Acme desk", "plan": "managed", "limits": {"guard": {"maxRunLossUsd": 300}}}
    updated = await api.put(f"/clients/{client_id}", json=body, headers=admin_headers)
    assert updated.status_code == 200, updated.text
    assert updated.json()["created"] is False
    assert updated.json()["client"]["plan"] == "managed"
    bad = await api.put(
        f"/clients/{client_id}", json={"limits": {"guard": {"nope": 1}}}, headers=admin_headers
    )
    assert bad.status_code == 422
    assert "limits.guard.nope" in bad.json()["detail"]
    details = (await api.get(f"/clients/{client_id}", headers=admin_headers)).json()
    assert details["client"]["name"] == "Acme desk"
    assert (await api.get("/clients/c-missing", headers=admin_headers)).status_code == 404


async def test_operator_stores_a_clients_keys_masked(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]], admin_headers: dict[str, str]
) -> None:
    headers, client_id = await customer(api, login)
    keys = {
        "exchange": "binance",
        "api_key": "operator-key-wxyz9876",
        "api_secret": "op-secret-abc",
    }
    stored = await api.post(f"/clients/{client_id}/credentials", json=keys, headers=admin_headers)
    assert stored.status_code == 200, stored.text
    assert stored.json()["credentials"]["status"] == "unverified"
    assert "op-secret" not in stored.text
    mine = (await api.get("/credentials", headers=headers)).json()
    assert [c["key_id"] for c in mine] == ["****9876"]


async def test_customer_token_cannot_use_operator_routes(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, client_id = await customer(api, login)
    for method, path in (
        ("GET", "/clients"),
        ("PUT", f"/clients/{client_id}"),
        ("POST", f"/clients/{client_id}/guards/reset"),
        ("GET", "/admin/runs"),
        ("GET", "/admin/kpis"),
    ):
        response = await api.request(method, path, json={}, headers=headers)
        assert response.status_code == 403, (method, path)


async def test_runs_across_clients_and_kpis(
    make_client: AppFactory,
    migrated_pg_url: str,
    login: Callable[..., dict[str, str]],
    admin_headers: dict[str, str],
) -> None:
    # A database of this test alone: the KPIs are figures across every client, exact only
    # where no other test writes.
    api = await make_client(PG_URL=migrated_pg_url)
    ana, ana_client = await customer(api, login)
    bob, bob_client = await customer(api, login)
    for headers in (ana, bob):
        bot = await new_bot(api, headers)
        await api.post("/runs", json={"bot_id": bot["id"]}, headers=headers)
    await subscribe(api, ana_client, "pro")
    runs = (await api.get("/admin/runs", headers=admin_headers, params={"limit": 1000})).json()
    assert sorted(r["client_id"] for r in runs) == sorted([ana_client, bob_client])
    one = next(r for r in runs if r["client_id"] == bob_client)
    detail = (await api.get(f"/admin/runs/{one['id']}", headers=admin_headers)).json()
    assert (detail["client_id"], detail["latest"], detail["guards"]) == (bob_client, None, [])
    kpis = (await api.get("/admin/kpis", headers=admin_headers)).json()
    kpis.pop("computed_at")
    assert kpis == {
        "clients": 3,  # the seeded default client, Ana's and Bob's
        "paying_clients": 1,
        "mrr_usd": float(plan_spec("pro").price_usd_month or 0),
        "churn_30d": 0.0,
        "activation": 0.0,  # two clients with a paper run, none went on to a live one
        "avg_realised_pnl_per_client": 0.0,
        "runs": {
            "by_status": {"created": 2},
            "by_mode": {"paper": 2},
            "failed_last_24h": 0,
            "guards_tripped_last_24h": 0,
        },
    }


async def test_admin_only_app_serves_operator_routes_alone(
    api_settings: Settings, admin_headers: dict[str, str]
) -> None:
    app = create_app(api_settings, admin_only=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://admin") as admin:
            assert (await admin.get("/clients", headers=admin_headers)).status_code == 200
            assert (await admin.get("/me", headers=admin_headers)).status_code == 404
            assert (await admin.get("/clients")).status_code == 401


async def test_operator_stores_keys_from_the_documented_camel_case_body(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]], admin_headers: dict[str, str]
) -> None:
    headers, client_id = await customer(api, login)
    path = f"/clients/{client_id}/credentials"
    camel = {"exchangeName": "binance", "apiKey": "camel-key-wxyz1357", "apiSecret": "camel-s"}
    stored = await api.post(path, json=camel, headers=admin_headers)
    assert stored.status_code == 200, stored.text
    assert stored.json()["credentials"]["key_id"] == "****1357"
    mine = (await api.get("/credentials", headers=headers)).json()
    assert [(c["exchange"], c["key_id"]) for c in mine] == [("binance", "****1357")]
    # One spelling per field: both at once is a 422, not a silent pick.
    both = {**camel, "exchange": "binance"}
    assert (await api.post(path, json=both, headers=admin_headers)).status_code == 422
    spec = (await api.get("/openapi.json")).json()
    body = spec["components"]["schemas"]["OperatorKeysInput"]["properties"]
    assert "exchangeName" in body["exchange"]["description"]
    assert "apiKey" in body["api_key"]["description"]
    assert "apiSecret" in body["api_secret"]["description"]
