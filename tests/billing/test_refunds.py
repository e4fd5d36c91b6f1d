"""Refunds and disputes over HTTP: a client asks under its plan's policy, an operator refunds
through the Stripe stand-in (the real ``stripe`` library on loopback), Stripe's signed
``charge.refunded`` and dispute events are handled once, a failing Stripe is a problem body,
and no client sees another's refunds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.api.factories import customer, deliver, event, subscription
from tests.api.fakes import StripeStandIn

DAY = 86_400
Login = Callable[..., dict[str, str]]
Stand = tuple[StripeStandIn, str]


async def starter(
    api: httpx.AsyncClient, login: Login, stand_in: StripeStandIn, *, days_ago: int = 3
) -> tuple[dict[str, str], str, str]:
    """A client on Starter since ``days_ago`` with one paid charge; headers, id, charge id."""
    headers, client_id = await customer(api, login)
    started = int(time.time()) - days_ago * DAY
    sub = subscription(client_id, "starter", created=started)
    applied = await deliver(api, event("customer.subscription.created", sub))
    assert applied.json()["outcome"] == "applied", applied.text
    return headers, client_id, stand_in.add_charge(sub["customer"], 4_900)


async def ask(api: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await api.post(
        "/billing/refund-requests", json={"reason": "not for me"}, headers=headers
    )


def refunds_of(stand_in: StripeStandIn, charge_id: str) -> list[dict[str, Any]]:
    """The refunds Stripe holds for the charge (the stand-in serves the whole session)."""
    return [r for r in stand_in.refunds.values() if r["charge"] == charge_id]


async def plan_of(api: httpx.AsyncClient, headers: dict[str, str]) -> str:
    name: str = (await api.get("/billing", headers=headers)).json()["plan"]["name"]
    return name


async def actions(api: httpx.AsyncClient, headers: dict[str, str], action: str) -> list[Any]:
    audit = (await api.get("/me/audit", headers=headers)).json()
    return [entry for entry in audit if entry["action"] == action]


async def test_a_starter_client_gets_its_money_back_once_and_the_plan_ends(
    api: httpx.AsyncClient, login: Login, stripe_stand_in: Stand, admin_headers: dict[str, str]
) -> None:
    stand_in = stripe_stand_in[0]
    headers, client_id, charge_id = await starter(api, login, stand_in)
    plans = {p["name"]: p for p in (await api.get("/billing/plans")).json()}
    assert (plans["starter"]["refund_window_days"], plans["trial"]["refund_window_days"]) == (
        30,
        None,
    )
    asked = await ask(api, headers)
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert (request["status"], request["plan"], request["client_id"]) == (
        "requested",
        "starter",
        client_id,
    )
    assert (await ask(api, headers)).status_code == 409  # once per subscription
    pending = (await api.get("/billing/refund-requests/pending", headers=admin_headers)).json()
    assert request["id"] in [p["id"] for p in pending]

    path = f"/billing/refund-requests/{request['id']}/refund"
    issued = await api.post(path, headers=admin_headers)  # no body: all of the charge
    assert issued.status_code == 200, issued.text
    assert (issued.json()["status"], issued.json()["amount_cents"]) == ("issued", 4_900)
    (refund,) = refunds_of(stand_in, charge_id)
    assert refund["metadata"] == {"client_id": client_id, "refund_request": str(request["id"])}
    assert f"sub_{client_id[-10:]}" in stand_in.canceled
    assert await plan_of(api, headers) == "trial"
    again = await api.post(path, json={}, headers=admin_headers)  # a double click
    assert again.json()["stripe_refund_id"] == refund["id"]
    assert len(refunds_of(stand_in, charge_id)) == 1

    # Stripe then confirms the refund and the cancellation; each may come twice.
    confirmed = event("charge.refunded", stand_in.charges[charge_id])
    assert (await deliver(api, confirmed)).json()["outcome"] == "applied"
    assert (await deliver(api, confirmed)).json()["outcome"] == "duplicate"
    resent = event("charge.refunded", stand_in.charges[charge_id])  # a new id, same news
    assert (await deliver(api, resent)).json()["outcome"] == "stale"
    deleted = subscription(client_id, "starter", "canceled", created=int(time.time()) - 3 * DAY)
    await deliver(api, event("customer.subscription.deleted", deleted))
    (mine,) = (await api.get("/billing/refund-requests", headers=headers)).json()
    assert (mine["status"], mine["amount_cents"]) == ("refunded", 4_900)
    assert mine["refunded_at"] is not None
    assert await plan_of(api, headers) == "trial"
    changes = await actions(api, headers, "plan_changed")
    assert [c["details"]["to"] for c in changes] == ["trial", "starter"]  # newest first: once


async def test_requests_outside_the_policy_or_malformed_are_refused(
    api: httpx.AsyncClient, login: Login, stripe_stand_in: Stand
) -> None:
    trial_headers, _ = await customer(api, login)
    refused = await ask(api, trial_headers)
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/plan-limit"
    assert "no money-back" in refused.json()["detail"]
    late_headers, _, _ = await starter(api, login, stripe_stand_in[0], days_ago=31)
    late = await ask(api, late_headers)
    assert late.status_code == 403
    assert "within 30 days" in late.json()["detail"]
    for body in ({"reason": ""}, {"reason": "a\x00b"}, {"reason": "x" * 501}, {}):
        bad = await api.post("/billing/refund-requests", json=body, headers=late_headers)
        assert bad.status_code == 422, body
        assert bad.headers["content-type"].startswith("application/problem+json")
    assert (await api.get("/billing/refund-requests", headers=late_headers)).json() == []


async def test_a_failing_stripe_is_a_503_problem_and_the_retry_refunds_once(
    api: httpx.AsyncClient, login: Login, stripe_stand_in: Stand, admin_headers: dict[str, str]
) -> None:
    stand_in = stripe_stand_in[0]
    headers, _, charge_id = await starter(api, login, stand_in)
    request_id = (await ask(api, headers)).json()["id"]
    path = f"/billing/refund-requests/{request_id}/refund"
    too_much = await api.post(path, json={"amount_cents": 5_000}, headers=admin_headers)
    assert too_much.status_code == 422
    stand_in.fail("POST /v1/refunds")
    failed = await api.post(path, json={}, headers=admin_headers)
    assert failed.status_code == 503
    assert failed.json()["type"] == "/problems/billing-unavailable"
    (mine,) = (await api.get("/billing/refund-requests", headers=headers)).json()
    assert mine["status"] == "requested"
    assert "refund failed" in mine["last_error"]
    assert await plan_of(api, headers) == "starter"  # nothing changed

    # The refund goes through, the cancellation does not: the retry must not refund twice.
    stand_in.recover()
    stand_in.fail("DELETE /v1/subscriptions/", status=500, kind="api_error")
    assert (await api.post(path, json={}, headers=admin_headers)).status_code == 503
    stand_in.recover()
    issued = await api.post(path, json={}, headers=admin_headers)
    assert issued.status_code == 200, issued.text
    (refund,) = refunds_of(stand_in, charge_id)
    assert issued.json()["stripe_refund_id"] == refund["id"]
    assert stand_in.charges[charge_id]["amount_refunded"] == 4_900
    assert await plan_of(api, headers) == "trial"
    missing = await api.post(
        "/billing/refund-requests/999999/refund", json={}, headers=admin_headers
    )
    assert missing.status_code == 404


async def test_no_client_sees_or_issues_another_clients_refunds(
    api: httpx.AsyncClient, login: Login, stripe_stand_in: Stand
) -> None:
    a_headers, _, a_charge = await starter(api, login, stripe_stand_in[0])
    b_headers, _, _ = await starter(api, login, stripe_stand_in[0])
    a_request = (await ask(api, a_headers)).json()
    assert (await api.get("/billing/refund-requests", headers=b_headers)).json() == []
    pending = await api.get("/billing/refund-requests/pending", headers=b_headers)
    assert pending.status_code == 403
    path = f"/billing/refund-requests/{a_request['id']}/refund"
    assert (await api.post(path, json={}, headers=b_headers)).status_code == 403
    assert refunds_of(stripe_stand_in[0], a_charge) == []
    # A refund of A's charge made in Stripe's dashboard is A's record, never B's.
    stripe_stand_in[0].charges[a_charge].update(amount_refunded=4_900, refunded=True)
    confirmed = event("charge.refunded", stripe_stand_in[0].charges[a_charge])
    assert (await deliver(api, confirmed)).json()["outcome"] == "applied"
    assert (await api.get("/billing/refund-requests", headers=b_headers)).json() == []
    a_rows = (await api.get("/billing/refund-requests", headers=a_headers)).json()
    assert sorted(r["status"] for r in a_rows) == ["refunded", "requested"]
    assert await actions(api, b_headers, "refund_confirmed") == []


async def test_disputes_are_recorded_once_and_never_reopened_by_an_older_event(
    api: httpx.AsyncClient, login: Login, stripe_stand_in: Stand
) -> None:
    headers, _, charge_id = await starter(api, login, stripe_stand_in[0])
    other_headers, _, _ = await starter(api, login, stripe_stand_in[0])
    t0 = int(time.time()) - 100
    # Stripe's dispute names the charge only: its customer is asked of Stripe.
    dispute = {
        "id": "dp_" + charge_id[3:],
        "object": "dispute",
        "charge": charge_id,
        "amount": 4_900,
        "currency": "usd",
        "reason": "fraudulent",
        "status": "needs_response",
    }
    opened = event("charge.dispute.created", dispute, created=t0)
    assert (await deliver(api, opened)).json()["outcome"] == "applied"
    assert (await deliver(api, opened)).json()["outcome"] == "duplicate"
    closed = event("charge.dispute.closed", {**dispute, "status": "won"}, created=t0 + 50)
    assert (await deliver(api, closed)).json()["outcome"] == "applied"
    late = event("charge.dispute.created", dispute, created=t0 + 1)  # redelivered late
    assert (await deliver(api, late)).json()["outcome"] == "stale"
    trail = [
        (e["action"], e["details"]["status"]) for e in await actions(api, headers, "dispute_closed")
    ]
    trail += [
        (e["action"], e["details"]["status"]) for e in await actions(api, headers, "dispute_opened")
    ]
    assert trail == [("dispute_closed", "won"), ("dispute_opened", "needs_response")]
    assert await actions(api, other_headers, "dispute_opened") == []
    stranger = stripe_stand_in[0].add_charge("cus_not_one_of_ours")
    stray = {**dispute, "id": "dp_" + stranger[3:], "charge": stranger}
    assert (await deliver(api, event("charge.dispute.created", stray))).json()[
        "outcome"
    ] == "ignored"
