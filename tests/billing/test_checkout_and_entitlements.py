"""Checkout through the Stripe stand-in, and live trading only for paid plans after 7 days paper."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.factories import customer, new_bot, subscribe
from tests.api.fakes import StripeStandIn
from tests.venues.sim_fixtures import (
    KEY,
    OTHER_KEY,
    OTHER_SECRET,
    SECRET,
    account,
    control,
    running_sim,
    sim_config,
)
from tradebot.venues.key_permissions import CcxtKeyPermissionCheck


async def test_checkout_session_is_created_at_stripe_with_the_client_reference(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    stripe_stand_in: tuple[StripeStandIn, str],
) -> None:
    headers, client_id = await customer(api, login)
    response = await api.post("/billing/checkout", json={"plan": "pro"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["url"].startswith("https://checkout.stripe.test/")
    path, form = stripe_stand_in[0].requests[-1]
    assert path == "/v1/checkout/sessions"
    assert form["client_reference_id"] == [client_id]
    assert form["line_items[0][price]"] == ["price_pro_test"]
    assert form["subscription_data[metadata][client_id]"] == [client_id]
    managed = await api.post("/billing/checkout", json={"plan": "managed"}, headers=headers)
    assert managed.status_code == 422


async def test_live_needs_a_paid_plan_and_seven_days_of_paper(
    make_client: Callable[..., object],
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with running_sim() as sim:
        check = CcxtKeyPermissionCheck(sandbox_url=sim.url, timeout_ms=2_000)
        api: httpx.AsyncClient = await make_client(key_check=check)  # type: ignore[misc]
        headers, client_id = await customer(api, login)
        keys = {"exchange": "binance", "api_key": KEY, "api_secret": SECRET}
        stored = await api.put("/credentials", json=keys, headers=headers)
    assert stored.status_code == 200, stored.text
    assert stored.json()["credentials"]["status"] == "active"
    assert SECRET not in stored.text
    bot = await new_bot(api, headers)
    paper = (await api.post("/runs", json={"bot_id": bot["id"]}, headers=headers)).json()
    await api.post(f"/runs/{paper['id']}/stop", headers=headers)
    await subscribe(api, client_id, "starter")
    too_soon = await api.post("/runs", json={"bot_id": bot["id"], "live": True}, headers=headers)
    assert too_soon.status_code == 403
    assert "7 days of paper" in too_soon.json()["detail"]
    async with pg_sessions() as session, session.begin():
        await session.execute(
            text("UPDATE bot_runs SET created_at = now() - interval '8 days' WHERE id = :r"),
            {"r": paper["id"]},
        )
    consent = {"versions": ["risk-v1", "terms-v1"]}
    assert (await api.post("/consent", json=consent, headers=headers)).status_code == 200
    live = await api.post("/runs", json={"bot_id": bot["id"], "live": True}, headers=headers)
    assert live.status_code == 202, live.text
    assert live.json()["mode"] == "live"


async def test_key_with_withdrawals_is_refused_and_not_stored(
    make_client: Callable[..., object], login: Callable[..., dict[str, str]]
) -> None:
    config = sim_config(accounts=[account(), account(OTHER_KEY, OTHER_SECRET)])
    async with running_sim(config) as sim:
        await control(sim.url, "POST", f"/_sim/accounts/{OTHER_KEY}/permissions",
                      {"enableWithdrawals": True})  # fmt: skip
        check = CcxtKeyPermissionCheck(sandbox_url=sim.url, timeout_ms=2_000)
        api: httpx.AsyncClient = await make_client(key_check=check)  # type: ignore[misc]
        headers, _ = await customer(api, login)
        keys = {"exchange": "binance", "api_key": OTHER_KEY, "api_secret": OTHER_SECRET}
        refused = await api.put("/credentials", json=keys, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["type"] == "/problems/key-permissions"
    assert "withdrawals enabled" in refused.json()["detail"]
    assert (await api.get("/credentials", headers=headers)).json() == []


async def test_starter_allows_one_exchange(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, client_id = await customer(api, login)
    await subscribe(api, client_id, "starter")
    first = {"exchange": "binance", "api_key": "key-one-abcd1234", "api_secret": "secret-one-xyz"}
    assert (await api.put("/credentials", json=first, headers=headers)).status_code == 200
    rotated = {**first, "api_key": "key-two-efgh5678"}
    again = await api.put("/credentials", json=rotated, headers=headers)
    assert again.json()["replaced"] is True
    second = {**first, "exchange": "kraken"}
    over = await api.put("/credentials", json=second, headers=headers)
    assert over.status_code == 403
    listed = (await api.get("/credentials", headers=headers)).json()
    assert [(c["exchange"], c["key_id"]) for c in listed] == [("binance", "****5678")]
