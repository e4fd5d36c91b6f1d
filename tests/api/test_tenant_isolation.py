"""Every customer route refuses another client's ids with 404, and changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.factories import customer, new_bot


async def _snapshot(sessions: async_sessionmaker[AsyncSession], client_id: str) -> list[object]:
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT (SELECT count(*) FROM bot_runs WHERE client_id = :c),"
                " (SELECT string_agg(status, ',') FROM bot_runs WHERE client_id = :c),"
                " (SELECT count(*) FROM bots WHERE client_id = :c),"
                " (SELECT count(*) FROM backtest_jobs WHERE client_id = :c),"
                " (SELECT count(*) FROM run_requests WHERE client_id = :c),"
                " (SELECT count(*) FROM bot_guard_state WHERE client_id = :c)"
            ),
            {"c": client_id},
        )
        return list(rows.one())


async def test_foreign_ids_are_404_on_every_route_and_nothing_changes(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    ana, ana_client = await customer(api, login)
    bob, bob_client = await customer(api, login)
    bot = await new_bot(api, ana)
    run = (await api.post("/runs", json={"bot_id": bot["id"]}, headers=ana)).json()
    job = (await api.post("/backtests", json={"bot_id": bot["id"], "days": 1}, headers=ana)).json()
    before = (await _snapshot(pg_sessions, ana_client), await _snapshot(pg_sessions, bob_client))

    calls = [
        ("GET", f"/bots/{bot['id']}", None),
        ("POST", "/runs", {"bot_id": bot["id"]}),
        ("GET", f"/runs/{run['id']}", None),
        ("POST", f"/runs/{run['id']}/stop", None),
        ("GET", f"/runs/{run['id']}/orders", None),
        ("GET", f"/runs/{run['id']}/fills", None),
        ("GET", f"/runs/{run['id']}/equity", None),
        ("GET", f"/runs/{run['id']}/guards", None),
        ("POST", "/backtests", {"bot_id": bot["id"]}),
        ("GET", f"/backtests/{job['id']}", None),
        ("GET", f"/backtests/{job['id']}/export", None),
    ]
    for method, path, body in calls:
        response = await api.request(method, path, json=body, headers=bob)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["type"] == "/problems/not-found"
    assert (await api.get("/bots", headers=bob)).json() == []
    assert (await api.get("/runs", headers=bob)).json() == []
    assert (await api.get("/backtests", headers=bob)).json() == []
    after = (await _snapshot(pg_sessions, ana_client), await _snapshot(pg_sessions, bob_client))
    assert after == before
