"""A key that can withdraw, handed to us through the API, is refused, trips the client's kill
switch and is in the audit log: on the customer's ``PUT /credentials`` and on the operator's
``POST /clients/{id}/credentials`` alike (both go through ``credentials.storing``), as the
README says. Naive implementation caught: only the live start and the daily re-check tripped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.api.factories import customer
from tests.api.fixtures import AppFactory
from tests.venues.sim_fixtures import KEY, SECRET, control, running_sim
from tradebot.venues.key_permissions import CcxtKeyPermissionCheck

Headers = dict[str, str]
Store = Callable[[httpx.AsyncClient, Headers, str, dict[str, Any]], Awaitable[httpx.Response]]


async def _by_customer(
    api: httpx.AsyncClient, user: dict[str, str], _client_id: str, keys: dict[str, Any]
) -> httpx.Response:
    return await api.put("/credentials", json=keys, headers=user)


def _by_operator(admin: dict[str, str]) -> Store:
    async def store(
        api: httpx.AsyncClient, _user: dict[str, str], client_id: str, keys: dict[str, Any]
    ) -> httpx.Response:
        return await api.post(f"/clients/{client_id}/credentials", json=keys, headers=admin)

    return store


@pytest.mark.parametrize("path", ["customer", "operator"])
async def test_a_withdraw_key_is_refused_trips_the_kill_switch_and_is_audited(
    make_client: AppFactory,
    login: Callable[..., dict[str, str]],
    admin_headers: dict[str, str],
    path: str,
) -> None:
    store = _by_customer if path == "customer" else _by_operator(admin_headers)
    async with running_sim() as sim:
        await control(sim.url, "POST", f"/_sim/accounts/{KEY}/permissions",
                      {"enableWithdrawals": True})  # fmt: skip
        api = await make_client(
            key_check=CcxtKeyPermissionCheck(sandbox_url=sim.url, timeout_ms=2_000)
        )
        user, client_id = await customer(api, login)
        assert (await api.get("/kill-switch", headers=user)).json()["active"] is False
        keys = {"exchange": "binance", "api_key": KEY, "api_secret": SECRET}
        refused = await store(api, user, client_id, keys)
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"] == "/problems/key-permissions"
    kill_switch = (await api.get("/kill-switch", headers=user)).json()
    assert kill_switch["active"] is True
    assert [g["guard"] for g in kill_switch["guards"]] == ["key_permissions"]
    audit = (await api.get("/me/audit", headers=user)).json()
    refusals = [entry for entry in audit if entry["action"] == "credentials_refused_withdraw"]
    assert len(refusals) == 1, audit
    assert refusals[0]["target"] == "binance/main"
    assert refusals[0]["details"]["can_withdraw"] is True
    assert (await api.get("/credentials", headers=user)).json() == []  # nothing stored
