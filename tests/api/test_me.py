"""``/me``: the first login provisions a Trial client; the audit trail is the client's own."""

from __future__ import annotations

from collections.abc import Callable

import httpx


async def test_first_login_provisions_one_trial_client(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    user = login(email="ana@example.test")
    first = await api.get("/me", headers=user)
    again = await api.get("/me", headers=user)
    assert first.status_code == 200, first.text
    me = first.json()
    assert me["plan"] == "trial"
    assert me["email"] == "ana@example.test"
    assert again.json()["client_id"] == me["client_id"]
    audit = (await api.get("/me/audit", headers=user)).json()
    assert [entry["action"] for entry in audit] == ["client_provisioned"]


async def test_two_users_get_two_clients_and_see_only_their_audit(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    ana, bob = login(), login()
    ana_client = (await api.get("/me", headers=ana)).json()["client_id"]
    bob_client = (await api.get("/me", headers=bob)).json()["client_id"]
    assert ana_client != bob_client
    for headers, client in ((ana, ana_client), (bob, bob_client)):
        audit = (await api.get("/me/audit", headers=headers)).json()
        assert [(entry["action"], entry["target"]) for entry in audit] == [
            ("client_provisioned", f"client {client}")
        ]


async def test_no_token_is_401_problem_without_trace(api: httpx.AsyncClient) -> None:
    response = await api.get("/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/problems/unauthenticated"
    assert body["status"] == 401
    assert "Traceback" not in response.text


async def test_admin_token_has_no_client_routes(
    api: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await api.get("/me", headers=admin_headers)
    assert response.status_code == 403
