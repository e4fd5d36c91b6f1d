"""``GET /onboarding``: the checklist to live trading, from the same facts the plan checks use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.factories import customer, new_bot, subscribe
from tradebot.venues.permissions import KeyPermissions


class TradeOnlyKeys:
    """The exchange's answer about a stored key: trading on, withdrawals off."""

    async def check(self, exchange: str, *_: object) -> KeyPermissions:
        return KeyPermissions(can_trade=True, can_withdraw=False, source=f"{exchange} (test)")


async def _state(api: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, object]:
    response = await api.get("/onboarding", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_a_new_client_sees_every_step_then_none_once_done(
    make_client: Callable[..., object],
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    api: httpx.AsyncClient = await make_client(key_check=TradeOnlyKeys())  # type: ignore[operator]
    headers, client_id = await customer(api, login)
    fresh = await _state(api, headers)
    assert (fresh["plan"], fresh["has_keys"], fresh["bots"], fresh["paper_runs"]) == (
        "trial", False, 0, 0,
    )  # fmt: skip
    assert (fresh["live_allowed"], fresh["paper_days_done"], fresh["paper_days_required"]) == (
        False, 0, 7,
    )  # fmt: skip
    assert fresh["first_paper_started_at"] is None
    missing = fresh["missing"]
    assert isinstance(missing, list)
    expected = ("paid plan", "keys", "bot", "paper run", "risk disclosure")
    assert len(missing) == len(expected)
    assert all(words in step for words, step in zip(expected, missing, strict=True)), missing

    await subscribe(api, client_id, "starter")
    keys = {"exchange": "binance", "api_key": "AKEY-9876", "api_secret": "s"}
    stored = await api.put("/credentials", json=keys, headers=headers)
    assert stored.status_code == 200, stored.text
    bot = await new_bot(api, headers)
    assert (await api.post("/runs", json={"bot_id": bot["id"]}, headers=headers)).status_code == 202
    started = await _state(api, headers)
    assert (started["plan"], started["paid"], started["keys_verified"]) == ("starter", True, True)
    assert (started["bots"], started["paper_runs"], started["paper_days_done"]) == (1, 1, 0)
    assert len(started["missing"]) == 2  # type: ignore[arg-type]
    assert "7 more days" in str(started["missing"])
    assert started["live_allowed"] is False
    consent = (await api.get("/consent", headers=headers)).json()
    accepted = await api.post("/consent", json={"versions": consent["missing"]}, headers=headers)
    assert accepted.status_code == 200, accepted.text
    assert len((await _state(api, headers))["missing"]) == 1  # type: ignore[arg-type]

    async with pg_sessions() as session, session.begin():
        await session.execute(
            text("UPDATE bot_runs SET created_at = now() - interval '3 days' WHERE client_id = :c"),
            {"c": client_id},
        )
    midway = await _state(api, headers)
    assert midway["paper_days_done"] == 3
    assert "4 more days" in str(midway["missing"])
    async with pg_sessions() as session, session.begin():
        await session.execute(
            text("UPDATE bot_runs SET created_at = now() - interval '8 days' WHERE client_id = :c"),
            {"c": client_id},
        )
    ready = await _state(api, headers)
    assert (ready["missing"], ready["live_allowed"], ready["paper_days_done"]) == ([], True, 7)
    first = datetime.fromisoformat(str(ready["first_paper_started_at"]))
    assert abs(datetime.now(UTC) - timedelta(days=8) - first) < timedelta(minutes=5)


async def test_unverified_keys_are_a_step_and_clients_are_apart(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(api, login)
    other, _ = await customer(api, login)
    keys = {"exchange": "binance", "api_key": "AKEY-1111", "api_secret": "s"}
    assert (await api.put("/credentials", json=keys, headers=headers)).status_code == 200
    await new_bot(api, headers)
    mine = await _state(api, headers)
    assert (mine["has_keys"], mine["keys_verified"], mine["bots"]) == (True, False, 1)
    assert any("confirm they are trade-only" in m for m in mine["missing"])  # type: ignore[union-attr]
    theirs = await _state(api, other)
    assert (theirs["has_keys"], theirs["bots"]) == (False, 0)
    assert (await api.get("/onboarding")).status_code == 401
