"""Deleting a stored exchange key: audited, refused while a live run trades with it, never
another client's."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.factories import customer
from tradebot.runs.store import SqlRunStore
from tradebot.runtime.store import RunRecord


async def _store(
    api: httpx.AsyncClient, headers: dict[str, str], label: str = "main"
) -> httpx.Response:
    keys = {"exchange": "binance", "label": label, "api_key": "AKEY-1234", "api_secret": "s3"}
    response = await api.put("/credentials", json=keys, headers=headers)
    assert response.status_code == 200, response.text
    return response


async def _live_run(
    sessions: async_sessionmaker[AsyncSession], client_id: str, status: str
) -> SqlRunStore:
    store = SqlRunStore(sessions, client_id, f"live-{uuid.uuid4().hex[:12]}")
    record = RunRecord(store.run_id, client_id, "live", "binance", "BTC/USDT", base_ts=1)
    await store.create_run(record)
    await store.set_status(status)
    return store


async def test_a_key_is_deleted_and_the_deletion_audited(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(api, login)
    await _store(api, headers)
    await _store(api, headers, "spare")
    deleted = await api.delete(
        "/credentials", params={"exchange": "binance", "label": "spare"}, headers=headers
    )
    assert (deleted.status_code, deleted.content) == (204, b"")
    left = (await api.get("/credentials", headers=headers)).json()
    assert [k["label"] for k in left] == ["main"]
    audit = (await api.get("/me/audit", headers=headers)).json()
    entry = next(e for e in audit if e["action"] == "credentials_deleted")
    assert entry["target"] == "binance/spare"
    assert "AKEY" not in str(entry)
    again = await api.delete(
        "/credentials", params={"exchange": "binance", "label": "spare"}, headers=headers
    )
    assert (again.status_code, again.json()["type"]) == (404, "/problems/not-found")


async def test_the_key_of_an_active_live_run_stays(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers, client_id = await customer(api, login)
    await _store(api, headers)
    run = await _live_run(pg_sessions, client_id, "running")
    refused = await api.delete("/credentials", params={"exchange": "binance"}, headers=headers)
    assert (refused.status_code, refused.json()["type"]) == (409, "/problems/conflict")
    assert run.run_id in refused.json()["detail"]
    assert len((await api.get("/credentials", headers=headers)).json()) == 1
    await run.set_status("stopped", "by the test")
    allowed = await api.delete("/credentials", params={"exchange": "binance"}, headers=headers)
    assert allowed.status_code == 204
    assert (await api.get("/credentials", headers=headers)).json() == []


async def test_bad_or_foreign_keys_are_problems(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    owner, _ = await customer(api, login)
    intruder, _ = await customer(api, login)
    await _store(api, owner)
    foreign = await api.delete("/credentials", params={"exchange": "binance"}, headers=intruder)
    assert (foreign.status_code, foreign.json()["type"]) == (404, "/problems/not-found")
    for params in ({}, {"exchange": "Bin ance"}, {"exchange": "binance", "label": "-x"}):
        bad = await api.delete("/credentials", params=params, headers=owner)
        assert (bad.status_code, bad.json()["type"]) == (422, "/problems/validation")
    assert len((await api.get("/credentials", headers=owner)).json()) == 1
