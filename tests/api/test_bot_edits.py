"""Bots change: a rename or a new grid (validated and planned as on create), and deletion; a bot
whose run is active keeps its grid and cannot be deleted, and a deleted bot's runs stay."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.api.factories import GRID, customer, new_bot


async def test_a_new_grid_is_validated_and_planned_as_on_create(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(api, login)
    bot = await new_bot(api, headers)
    changed = await api.patch(
        f"/bots/{bot['id']}",
        json={"name": "  wider  ", "grid": {**GRID, "lower": 85_000, "lines": 12}},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["grid"]["lower"], body["plan"]["lines"]) == ("wider", 85_000, 12)
    assert body["plan"]["line_prices"][0] == 85_000
    assert body["updated_at"] > bot["updated_at"]
    fetched = (await api.get(f"/bots/{bot['id']}", headers=headers)).json()
    assert fetched["plan"] == body["plan"]
    renamed = await api.patch(f"/bots/{bot['id']}", json={"name": "only"}, headers=headers)
    assert (renamed.json()["name"], renamed.json()["grid"]["lines"]) == ("only", 12)
    audit = (await api.get("/me/audit", headers=headers)).json()
    assert "bot_updated" in [entry["action"] for entry in audit]


async def test_bad_changes_are_422_problems_and_change_nothing(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(api, login)
    bot = await new_bot(api, headers)
    path = f"/bots/{bot['id']}"
    tiny = await api.patch(path, json={"grid": {**GRID, "investment": 20}}, headers=headers)
    assert (tiny.status_code, tiny.json()["type"]) == (422, "/problems/invalid-grid")
    for body in ({}, {"pair": "ETH/USDT"}, {"name": ""}, {"grid": {"lower": "abc"}}):
        response = await api.patch(path, json=body, headers=headers)
        assert (response.status_code, response.json()["type"]) == (422, "/problems/validation")
    assert (await api.get(path, headers=headers)).json()["grid"] == bot["grid"]


async def test_a_bot_with_an_active_run_may_only_be_renamed_and_not_deleted(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(api, login)
    bot = await new_bot(api, headers)
    path = f"/bots/{bot['id']}"
    run = (await api.post("/runs", json={"bot_id": bot["id"]}, headers=headers)).json()
    regrid = await api.patch(path, json={"grid": {**GRID, "lines": 8}}, headers=headers)
    assert (regrid.status_code, regrid.json()["type"]) == (409, "/problems/conflict")
    same_grid = await api.patch(path, json={"name": "kept", "grid": GRID}, headers=headers)
    assert same_grid.status_code == 200, same_grid.text
    deleting = await api.delete(path, headers=headers)
    assert (deleting.status_code, deleting.json()["type"]) == (409, "/problems/conflict")
    await api.post(f"/runs/{run['id']}/stop", headers=headers)
    deleted = await api.delete(path, headers=headers)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (await api.get(path, headers=headers)).status_code == 404
    assert (await api.get("/bots", headers=headers)).json() == []
    past = await api.get(f"/runs/{run['id']}", headers=headers)
    assert (past.status_code, past.json()["bot_id"]) == (200, bot["id"])
    assert (await api.delete(path, headers=headers)).status_code == 404


async def test_another_clients_bot_is_not_found(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    owner, _ = await customer(api, login)
    intruder, _ = await customer(api, login)
    bot = await new_bot(api, owner)
    path = f"/bots/{bot['id']}"
    renamed = await api.patch(path, json={"name": "mine"}, headers=intruder)
    assert (renamed.status_code, renamed.json()["type"]) == (404, "/problems/not-found")
    assert (await api.delete(path, headers=intruder)).status_code == 404
    assert (await api.get(path, headers=owner)).json()["name"] == bot["name"]
