"""``POST /webhooks/stripe``: signed on the raw bytes, handled once, newest state wins.

Payloads are signed with the real ``stripe`` library's scheme; nothing of stripe is patched.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx

from tests.api.factories import customer, deliver, event, signed, subscription


async def _plan(api: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, str | None]:
    billing = (await api.get("/billing", headers=headers)).json()
    return billing["plan"]["name"], billing["subscription_status"]


async def test_signed_subscription_event_upgrades_the_plan(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, client_id = await customer(api, login)
    response = await deliver(
        api, event("customer.subscription.created", subscription(client_id, "pro"))
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "outcome": "applied"}
    assert await _plan(api, headers) == ("pro", "active")
    audit = (await api.get("/me/audit", headers=headers)).json()
    assert audit[0]["action"] == "plan_changed"
    assert audit[0]["details"]["to"] == "pro"


async def test_bad_signature_and_reserialised_body_are_refused_and_change_nothing(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, client_id = await customer(api, login)
    evt = event("customer.subscription.created", subscription(client_id, "pro"))
    body, sig = signed(evt)
    forged = {**sig, "Stripe-Signature": sig["Stripe-Signature"][:-4] + "beef"}
    assert (await api.post("/webhooks/stripe", content=body, headers=forged)).status_code == 400
    # Same JSON, different bytes (as a framework re-serialising the body would produce).
    reserialised = json.dumps(json.loads(body), indent=2).encode()
    refused = await api.post("/webhooks/stripe", content=reserialised, headers=sig)
    assert refused.status_code == 400
    assert refused.json()["type"] == "/problems/bad-signature"
    unsigned = await api.post("/webhooks/stripe", content=body)
    assert unsigned.status_code == 400
    assert await _plan(api, headers) == ("trial", None)


async def test_signature_older_than_tolerance_is_refused(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, client_id = await customer(api, login)
    evt = event("customer.subscription.created", subscription(client_id, "pro"))
    body, sig = signed(evt, timestamp=int(time.time()) - 301)
    assert (await api.post("/webhooks/stripe", content=body, headers=sig)).status_code == 400
    assert await _plan(api, headers) == ("trial", None)


async def test_replayed_event_is_handled_once(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, client_id = await customer(api, login)
    evt = event("customer.subscription.created", subscription(client_id, "starter"))
    assert (await deliver(api, evt)).json()["outcome"] == "applied"
    later = event(
        "customer.subscription.updated", subscription(client_id, "pro"), created=evt["created"] + 5
    )
    assert (await deliver(api, later)).json()["outcome"] == "applied"
    # The first event again (Stripe retries): a duplicate, so it cannot undo the upgrade.
    assert (await deliver(api, evt)).json()["outcome"] == "duplicate"
    assert await _plan(api, headers) == ("pro", "active")


async def test_out_of_order_events_never_let_older_state_win(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, client_id = await customer(api, login)
    t0 = int(time.time()) - 100
    created = event(
        "customer.subscription.created",
        subscription(client_id, "starter", "incomplete"),
        created=t0,
    )
    upgraded = event(
        "customer.subscription.updated", subscription(client_id, "pro"), created=t0 + 10
    )
    failed = event(
        "invoice.payment_failed",
        {
            "object": "invoice",
            "customer": f"cus_{client_id[-10:]}",
            "subscription": f"sub_{client_id[-10:]}",
            "subscription_details": {"metadata": {"client_id": client_id}},
        },
        created=t0 + 5,
    )
    assert (await deliver(api, upgraded)).json()["outcome"] == "applied"
    assert (await deliver(api, failed)).json()["outcome"] == "stale"
    assert (await deliver(api, created)).json()["outcome"] == "stale"
    assert await _plan(api, headers) == ("pro", "active")


async def test_deleted_subscription_is_not_revived_by_a_late_invoice(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, client_id = await customer(api, login)
    t0 = int(time.time()) - 100
    await deliver(
        api, event("customer.subscription.created", subscription(client_id, "pro"), created=t0)
    )
    deleted = event(
        "customer.subscription.deleted", subscription(client_id, "pro", "canceled"), created=t0 + 20
    )
    assert (await deliver(api, deleted)).json()["outcome"] == "applied"
    paid = event(
        "invoice.paid",
        {
            "object": "invoice",
            "customer": f"cus_{client_id[-10:]}",
            "parent": {
                "subscription_details": {
                    "subscription": f"sub_{client_id[-10:]}",
                    "metadata": {"client_id": client_id},
                }
            },
        },
        created=t0 + 20,
    )
    assert (await deliver(api, paid)).json()["outcome"] == "stale"
    assert await _plan(api, headers) == ("trial", "canceled")


async def test_checkout_completed_links_the_customer_then_portal_works(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, client_id = await customer(api, login)
    assert (await api.post("/billing/portal", headers=headers)).status_code == 409
    session = {
        "object": "checkout.session",
        "client_reference_id": client_id,
        "customer": "cus_checkout1",
        "subscription": "sub_checkout1",
        "payment_status": "paid",
        "metadata": {"client_id": client_id, "plan": "starter"},
    }
    assert (await deliver(api, event("checkout.session.completed", session))).json()[
        "outcome"
    ] == "applied"
    assert await _plan(api, headers) == ("starter", "active")
    portal = await api.post("/billing/portal", headers=headers)
    assert portal.status_code == 200, portal.text
    assert portal.json()["url"].startswith("https://billing.stripe.test/")


async def test_event_for_no_client_of_ours_is_acknowledged_and_ignored(
    api: httpx.AsyncClient,
) -> None:
    stray = event(
        "customer.subscription.updated", {"object": "subscription", "id": "sub_x", "metadata": {}}
    )
    assert (await deliver(api, stray)).json()["outcome"] == "ignored"
    assert (await deliver(api, stray)).json()["outcome"] == "duplicate"
    other = event("charge.refunded", {"object": "charge", "metadata": {"client_id": "c-nobody"}})
    assert (await deliver(api, other)).json()["outcome"] == "ignored"
