"""Bots: a grid validated by the engine's own plan, with the plan summary as preview."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.factories import GRID, customer, new_bot


async def test_created_bot_carries_its_plan_preview(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(api, login)
    bot = await new_bot(api, headers)
    assert bot["plan"]["lines"] == GRID["lines"]
    assert len(bot["plan"]["line_prices"]) == GRID["lines"]
    assert bot["plan"]["line_prices"][0] == GRID["lower"]
    listed = (await api.get("/bots", headers=headers)).json()
    assert [b["id"] for b in listed] == [bot["id"]]
    fetched = await api.get(f"/bots/{bot['id']}", headers=headers)
    assert fetched.json()["plan"] == bot["plan"]


async def test_preview_saves_nothing_and_shows_the_start(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(api, login)
    body = {"name": "p", "grid": GRID, "reference_price": 97_000}
    preview = await api.post("/bots/preview", json=body, headers=headers)
    assert preview.status_code == 200, preview.text
    assert preview.json()["start_buy_orders"] + preview.json()["start_sell_orders"] == 9
    assert (await api.get("/bots", headers=headers)).json() == []


async def test_grid_that_cannot_trade_is_422_with_the_engine_reason(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(api, login)
    tiny = {"name": "tiny", "grid": {**GRID, "investment": 20}}
    response = await api.post("/bots", json=tiny, headers=headers)
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/invalid-grid"
    assert "invest at least" in response.json()["detail"]
    unknown = await api.post(
        "/bots", json={"name": "x", "pair": "DOGE/EUR", "grid": GRID}, headers=headers
    )
    assert unknown.status_code == 422
    assert "not supported" in unknown.json()["detail"]
    inverted = {"name": "x", "grid": {**GRID, "lower": 110_000}}
    assert (await api.post("/bots", json=inverted, headers=headers)).status_code == 422
    assert (await api.get("/bots", headers=headers)).json() == []


async def test_trial_plan_limit_on_bots_is_403_and_creates_nothing(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(api, login)
    for _ in range(3):
        await new_bot(api, headers)
    over = await api.post("/bots", json={"name": "4th", "grid": GRID}, headers=headers)
    assert over.status_code == 403
    assert over.json()["type"] == "/problems/plan-limit"
    assert len((await api.get("/bots", headers=headers)).json()) == 3


async def test_validation_error_is_a_problem_body_without_the_input(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(api, login)
    response = await api.post(
        "/bots", json={"name": "x", "grid": {"lower": "abc"}}, headers=headers
    )
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "/problems/validation"
    assert body["errors"]
    assert "abc" not in response.text


async def test_after_the_trial_new_bots_need_a_plan_but_reading_works(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers, client_id = await customer(api, login)
    await new_bot(api, headers)
    async with pg_sessions() as session, session.begin():
        await session.execute(
            text("UPDATE clients SET created_at = now() - interval '15 days' WHERE id = :c"),
            {"c": client_id},
        )
    refused = await api.post("/bots", json={"name": "late", "grid": GRID}, headers=headers)
    assert refused.status_code == 402
    assert "trial ended" in refused.json()["detail"]
    assert len((await api.get("/bots", headers=headers)).json()) == 1
    billing = (await api.get("/billing", headers=headers)).json()
    assert billing["plan"]["name"] == "trial"
    assert billing["paid"] is False
