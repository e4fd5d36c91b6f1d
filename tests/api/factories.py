"""Plain async helpers that build API state the way a user would: through HTTP."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx
import stripe

from tests.api.fixtures import WEBHOOK_SECRET

GRID: dict[str, Any] = {
    "lower": 90_000,
    "upper": 105_000,
    "lines": 10,
    "investment": 1_000,
    "spacing": "geometric",
}
PRICES = {"starter": "price_starter_test", "pro": "price_pro_test"}


async def customer(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> tuple[dict[str, str], str]:
    """A new user's headers and client id (the first call provisions the client)."""
    headers = login()
    response = await api.get("/me", headers=headers)
    assert response.status_code == 200, response.text
    return headers, response.json()["client_id"]


async def new_bot(api: httpx.AsyncClient, headers: dict[str, str], **grid: Any) -> dict[str, Any]:
    body = {"name": "btc grid", "pair": "BTC/USDT", "grid": {**GRID, **grid}}
    response = await api.post("/bots", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def signed(event: dict[str, Any], *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The raw body and ``Stripe-Signature`` header Stripe would send for ``event``."""
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        payload, WEBHOOK_SECRET, timestamp=timestamp
    )
    return payload.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}


def event(kind: str, obj: dict[str, Any], *, created: int | None = None) -> dict[str, Any]:
    return {
        "id": f"evt_{secrets.token_hex(8)}",
        "object": "event",
        "type": kind,
        "created": created or int(time.time()),
        "data": {"object": obj},
    }


def subscription(
    client_id: str,
    plan: str,
    status: str = "active",
    *,
    sub_id: str | None = None,
    created: int = 1_700_000_000,
) -> dict[str, Any]:
    return {
        "id": sub_id or f"sub_{client_id[-10:]}",
        "object": "subscription",
        "customer": f"cus_{client_id[-10:]}",
        "status": status,
        "created": created,
        "metadata": {"client_id": client_id, "plan": plan},
        "items": {
            "data": [{"price": {"id": PRICES[plan]}, "current_period_end": created + 2_592_000}]
        },
    }


async def deliver(api: httpx.AsyncClient, evt: dict[str, Any]) -> httpx.Response:
    body, headers = signed(evt)
    return await api.post("/webhooks/stripe", content=body, headers=headers)


async def subscribe(api: httpx.AsyncClient, client_id: str, plan: str) -> None:
    """The client's plan becomes ``plan`` the way production does it: a signed Stripe event."""
    response = await deliver(
        api, event("customer.subscription.updated", subscription(client_id, plan))
    )
    assert response.json()["outcome"] == "applied", response.text
