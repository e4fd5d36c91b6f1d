"""Stripe failing at the wire: unreachable, answering 429 or 5xx, or a declined card.

The Stripe stand-in of tests/api/fakes.py answers only successes; here a stand-in of this
module answers every request with one failure, the way Stripe's API sends them (status, JSON
error body, Request-Id), through the real ``stripe`` client. A checkout then is a 503 problem
body that names no key, after the client's own bounded retries; a declined renewal (Stripe's
``invoice.payment_failed``) leaves the subscription ``past_due`` and new bots refused with 402.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest

from tests.api.factories import customer, deliver, event, subscribe
from tests.api.fakes import serving
from tests.api.fixtures import STRIPE_KEY, AppFactory

FAILURES = {
    429: {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests"},
    500: {"type": "api_error", "message": "Something went wrong on Stripe's end."},
    503: {"type": "api_error", "message": "Service unavailable."},
}


class _Failing:
    def __init__(self, status: int) -> None:
        self.status = status
        self.requests = 0


class _FailingHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        state: _Failing = self.server.state  # type: ignore[attr-defined]
        state.requests += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"error": FAILURES[state.status]}).encode()
        self.send_response(state.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", "req_failing")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def _failing_stripe(status: int) -> Iterator[tuple[_Failing, str]]:
    state = _Failing(status)
    with serving(_FailingHandler, state) as url:
        yield state, url


def _nothing_listening() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["type"] == "/problems/billing-unavailable"
    assert STRIPE_KEY not in response.text


@pytest.mark.parametrize("status", sorted(FAILURES))
async def test_checkout_while_stripe_fails_is_a_503_after_bounded_retries(
    make_client: AppFactory, login: Callable[..., dict[str, str]], status: int
) -> None:
    with _failing_stripe(status) as (stripe, url):
        api = await make_client(STRIPE_API_BASE=url)
        headers, _ = await customer(api, login)
        started = time.monotonic()
        response = await api.post("/billing/checkout", json={"plan": "pro"}, headers=headers)
        elapsed = time.monotonic() - started
    _unavailable(response)
    assert 1 <= stripe.requests <= 3  # the first try and at most the client's two retries
    assert elapsed < 15


async def test_checkout_while_stripe_is_unreachable_is_a_503(
    make_client: AppFactory, login: Callable[..., dict[str, str]]
) -> None:
    api = await make_client(STRIPE_API_BASE=_nothing_listening())
    headers, _ = await customer(api, login)
    response = await api.post("/billing/checkout", json={"plan": "pro"}, headers=headers)
    _unavailable(response)
    # The account itself still answers: billing reads come from our database, not Stripe.
    summary = await api.get("/billing", headers=headers)
    assert summary.status_code == 200, summary.text


async def test_a_declined_renewal_leaves_the_subscription_past_due_and_new_bots_refused(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, client_id = await customer(api, login)
    await subscribe(api, client_id, "pro")
    declined = event(
        "invoice.payment_failed",
        {
            "object": "invoice",
            "customer": f"cus_{client_id[-10:]}",
            "subscription": f"sub_{client_id[-10:]}",
            "billing_reason": "subscription_cycle",
            "last_finalization_error": {"code": "card_declined", "type": "card_error"},
            "subscription_details": {"metadata": {"client_id": client_id}},
        },
    )
    assert (await deliver(api, declined)).json()["outcome"] == "applied"
    billing = (await api.get("/billing", headers=headers)).json()
    assert (billing["plan"]["name"], billing["subscription_status"], billing["paid"]) == (
        "pro",
        "past_due",
        False,
    )
    body = {"name": "after decline", "pair": "BTC/USDT", "grid": {
        "lower": 90_000, "upper": 105_000, "lines": 10, "investment": 1_000}}  # fmt: skip
    refused = await api.post("/bots", json=body, headers=headers)
    assert refused.status_code == 402, refused.text
    assert "past_due" in refused.json()["detail"]
