"""Notification preferences through the API: channels gated by plan, quiet hours, and the
daily email not queued for a client who turned it off."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.api.factories import customer, subscribe

ROUTE = "/notifications/preferences"


async def test_channels_follow_the_plan_and_choices_are_kept(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, client_id = await customer(api, login)
    trial = (await api.get(ROUTE, headers=headers)).json()
    assert (trial["channels_in_plan"], trial["daily_email"], trial["telegram_alerts"]) == (
        [], False, False,
    )  # fmt: skip
    refused = await api.put(ROUTE, json={"daily_email": True}, headers=headers)
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == "/problems/plan-limit"

    await subscribe(api, client_id, "starter")
    starter = (await api.get(ROUTE, headers=headers)).json()
    assert (starter["channels_in_plan"], starter["daily_email"]) == (["email"], True)
    telegram = await api.put(ROUTE, json={"telegram_alerts": True}, headers=headers)
    assert telegram.status_code == 403
    assert "Pro" in telegram.json()["detail"]
    chosen = {
        "daily_email": False,
        "alert_emails": False,
        "quiet_hours": {"from_hour": 22, "to_hour": 7},
    }
    saved = await api.put(ROUTE, json=chosen, headers=headers)
    assert saved.status_code == 200, saved.text
    assert (await api.get(ROUTE, headers=headers)).json() == {
        "daily_email": False,
        "telegram_alerts": False,
        "fill_alerts": True,
        "alert_emails": False,
        "quiet_hours": {"from_hour": 22, "to_hour": 7},
        "channels_in_plan": ["email"],
    }
    await subscribe(api, client_id, "pro")
    pro = (await api.get(ROUTE, headers=headers)).json()
    assert pro["channels_in_plan"] == ["email", "telegram"]
    for bad in ({"quiet_hours": {"from_hour": 24, "to_hour": 1}}, {"sms": True}):
        assert (await api.put(ROUTE, json=bad, headers=headers)).status_code == 422
    assert (await api.get(ROUTE)).status_code == 401
