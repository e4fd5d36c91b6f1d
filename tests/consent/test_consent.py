"""Risk consent through the API: live start refused without the current texts accepted, then
allowed; a stale version refused; a new version asks again before the next live start."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.connections import RedisSettings, create_pool
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.factories import customer, new_bot, subscribe
from tradebot.config import Settings
from tradebot.consent.documents import ConsentTexts, packaged_texts
from tradebot.consent.schemas import ConsentAccept
from tradebot.consent.service import ConsentService
from tradebot.errors import ConflictError
from tradebot.kit.scope import ClientScope
from tradebot.runs.configuration import RunNotAllowedError
from tradebot.runs.queue import ArqRunQueue
from tradebot.runs.schemas import RunStart
from tradebot.runs.service import RunService
from tradebot.venues.permissions import KeyPermissions

CURRENT = ["risk-v1", "terms-v1"]


class TradeOnlyKeys:
    """The exchange's answer about a stored key: trading on, withdrawals off."""

    async def check(self, exchange: str, *_: object) -> KeyPermissions:
        return KeyPermissions(can_trade=True, can_withdraw=False, source=f"{exchange} (test)")


async def _ready_for_live(
    make_client: Callable[..., Any],
    login: Callable[..., dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[httpx.AsyncClient, dict[str, str], str, str]:
    """A Starter client with checked keys, a bot and 8 days of paper: everything but consent."""
    api: httpx.AsyncClient = await make_client(key_check=TradeOnlyKeys())
    headers, client_id = await customer(api, login)
    await subscribe(api, client_id, "starter")
    keys = {"exchange": "binance", "api_key": "AKEY-5555", "api_secret": "s"}
    assert (await api.put("/credentials", json=keys, headers=headers)).status_code == 200
    bot = await new_bot(api, headers)
    paper = await api.post("/runs", json={"bot_id": bot["id"]}, headers=headers)
    assert paper.status_code == 202, paper.text
    await api.post(f"/runs/{paper.json()['id']}/stop", headers=headers)
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE bot_runs SET created_at = now() - interval '8 days' WHERE client_id = :c"),
            {"c": client_id},
        )
    return api, headers, client_id, bot["id"]


async def test_live_start_is_refused_until_the_current_texts_are_accepted(
    make_client: Callable[..., Any],
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    api, headers, _, bot_id = await _ready_for_live(make_client, login, pg_sessions)
    live = {"bot_id": bot_id, "live": True}

    fresh = (await api.get("/consent", headers=headers)).json()
    assert [d["key"] for d in fresh["documents"]] == CURRENT
    assert (fresh["live_allowed"], fresh["missing"], fresh["history"]) == (False, CURRENT, [])
    assert fresh["documents"][0]["title"] == "Risk disclosure"
    assert "lose money" in fresh["documents"][0]["text"]

    refused = await api.post("/runs", json=live, headers=headers)
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == "/problems/run-not-allowed"
    assert "risk-v1, terms-v1" in refused.json()["detail"]

    half = await api.post("/consent", json={"versions": ["risk-v1"]}, headers=headers)
    assert half.status_code == 200, half.text
    assert (half.json()["live_allowed"], half.json()["missing"]) == (False, ["terms-v1"])
    assert (await api.post("/runs", json=live, headers=headers)).status_code == 403

    accepted = await api.post("/consent", json={"versions": CURRENT}, headers=headers)
    body = accepted.json()
    assert (body["live_allowed"], body["missing"]) == (True, [])
    history = body["history"]
    assert [h["key"] for h in history] == CURRENT  # risk-v1 accepted once, not twice
    assert all(h["ip"] == "127.0.0.1" and h["subject"].startswith("auth0|") for h in history)

    started = await api.post("/runs", json=live, headers=headers)
    assert started.status_code == 202, started.text
    assert started.json()["mode"] == "live"


async def test_consent_is_per_client_and_checked_for_shape(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(api, login)
    other, _ = await customer(api, login)
    assert (await api.post("/consent", json={"versions": CURRENT}, headers=headers)).is_success
    assert (await api.get("/consent", headers=other)).json()["missing"] == CURRENT
    for versions, status in (
        (["risk-v9"], 422),  # no such version
        (["privacy-v1"], 422),  # no such document
        (["risk"], 422),
        ([], 422),
    ):
        answer = await api.post("/consent", json={"versions": versions}, headers=headers)
        assert answer.status_code == status, (versions, answer.text)
    assert (await api.get("/consent")).status_code == 401


@pytest.fixture
def texts_v2(tmp_path: Path) -> ConsentTexts:
    """The packaged texts plus a second risk disclosure, as publishing one would add it."""
    for current in packaged_texts().current().values():
        (tmp_path / f"{current.key}.md").write_text(current.text, encoding="utf-8")
    (tmp_path / "risk-v2.md").write_text("# Risk disclosure\n\nVersion 2.\n", encoding="utf-8")
    return ConsentTexts(tmp_path)


async def test_a_new_version_needs_acceptance_again_and_the_old_one_is_stale(
    make_client: Callable[..., Any],
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
    api_settings: Settings,
    texts_v2: ConsentTexts,
) -> None:
    api, headers, client_id, bot_id = await _ready_for_live(make_client, login, pg_sessions)
    assert (await api.post("/consent", json={"versions": CURRENT}, headers=headers)).is_success
    scope = ClientScope.of(client_id)
    consent = ConsentService(pg_sessions, scope, "user:test", "auth0|test", texts_v2)
    redis = await create_pool(RedisSettings.from_dsn(api_settings.REDIS_URL))
    try:
        queue = ArqRunQueue(redis, f"tradebot-test-runs-{secrets.token_hex(4)}")
        runs = RunService(pg_sessions, scope, "user:test", queue, consent_texts=texts_v2)
        with pytest.raises(RunNotAllowedError, match="risk-v2"):
            await runs.start(RunStart(bot_id=bot_id, live=True))
        with pytest.raises(ConflictError, match="accept risk-v2"):
            await consent.accept(ConsentAccept(versions=["risk-v1"]), "127.0.0.1")
        state = await consent.accept(ConsentAccept(versions=["risk-v2"]), "127.0.0.1")
        assert (state.live_allowed, [d.key for d in state.documents]) == (
            True, ["risk-v2", "terms-v1"],
        )  # fmt: skip
        started = await runs.start(RunStart(bot_id=bot_id, live=True))
        assert started.mode == "live"
    finally:
        await redis.aclose()
