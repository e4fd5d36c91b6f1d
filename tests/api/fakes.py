"""The edges of the world the API talks to, speaking their real wire protocols on loopback:
an Auth0-like issuer serving a JWKS, and a Stripe stand-in answering the API calls we make.

Both are plain threaded HTTP servers, independent of any test's event loop.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], state: Any) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 (a free port); yields the base URL ending in ``/``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class Issuer:
    """Signing keys of a fake Auth0 tenant; ``published`` is what its JWKS shows."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
        self.published: list[RSAKey] = [self.key]
        self.fetches = 0
        self.url = ""
        self.audience = "https://api.tradebot.test"

    def jwks(self) -> dict[str, Any]:
        self.fetches += 1
        return {"keys": [k.as_dict(private=False, use="sig", alg="RS256") for k in self.published]}

    def rotate(self, kid: str) -> RSAKey:
        """A new signing key, published alongside the old one."""
        self.key = RSAKey.generate_key(2048, parameters={"kid": kid})
        self.published.append(self.key)
        return self.key

    def token(
        self,
        subject: str | None,
        *,
        key: RSAKey | None = None,
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        key = key or self.key
        payload = {
            "iss": self.url,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "exp": now + 600,
        }
        payload.update(claims)  # a claim given as None is left out
        payload = {k: v for k, v in payload.items() if v is not None}
        head = {"alg": "RS256", "kid": key.kid, **(header or {})}
        head = {k: v for k, v in head.items() if v is not None}
        return jwt.encode(head, payload, key)


class _JwksHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        issuer: Issuer = self.server.state  # type: ignore[attr-defined]
        if self.path != "/.well-known/jwks.json":
            self.send_error(404)
            return
        body = json.dumps(issuer.jwks()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def issuer_server() -> Iterator[Issuer]:
    issuer = Issuer()
    with serving(_JwksHandler, issuer) as url:
        issuer.url = url
        yield issuer


class StripeStandIn:
    """Answers the Stripe API calls we make as Stripe does: Checkout and Portal sessions, a
    customer's charges, refunds (the same refund again for a repeated ``Idempotency-Key``) and
    subscription cancellation. ``fail(route)`` makes a route answer Stripe's error until
    ``recover()``."""

    def __init__(self, secret_key: str) -> None:
        self.secret_key = secret_key
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.canceled: list[str] = []
        self.failures: dict[str, tuple[int, dict[str, Any]]] = {}
        self.replies: dict[str, tuple[int, dict[str, Any]]] = {}
        """Answers by idempotency key."""
        self.lock = threading.Lock()

    def add_charge(self, customer: str, amount: int = 4_900, currency: str = "usd") -> str:
        """A paid charge of ``customer`` (its newest); returns its id."""
        charge_id = f"ch_{secrets.token_hex(8)}"
        self.charges[charge_id] = {
            "id": charge_id,
            "object": "charge",
            "customer": customer,
            "amount": amount,
            "amount_refunded": 0,
            "currency": currency,
            "paid": True,
            "refunded": False,
            "created": int(time.time()) + len(self.charges),
        }
        return charge_id

    def fail(self, route: str, status: int = 402, kind: str = "card_error") -> None:
        """Answer ``route`` (``"POST /v1/refunds"``, a path prefix) with Stripe's error."""
        error = {"type": kind, "code": "refund_failed", "message": "The refund failed."}
        self.failures[route] = (status, {"error": error})

    def recover(self) -> None:
        self.failures.clear()

    def answer(self, method: str, path: str, form: dict[str, list[str]]) -> tuple[int, Any]:
        route = f"{method} {path}"
        for prefix, failure in self.failures.items():
            if route.startswith(prefix):
                return failure
        one = {key: values[0] for key, values in form.items()}
        token = secrets.token_hex(6)
        if route == "POST /v1/checkout/sessions":
            return 200, {
                "id": f"cs_test_{token}",
                "object": "checkout.session",
                "url": f"https://checkout.stripe.test/c/{token}",
                "client_reference_id": one.get("client_reference_id"),
            }
        if route == "POST /v1/billing_portal/sessions":
            return 200, {
                "id": f"bps_{token}",
                "object": "billing_portal.session",
                "url": f"https://billing.stripe.test/p/{token}",
                "customer": one.get("customer"),
            }
        if route == "GET /v1/charges":
            mine = [c for c in self.charges.values() if c["customer"] == one.get("customer")]
            newest = sorted(mine, key=lambda c: -c["created"])[: int(one.get("limit", 10))]
            return 200, {"object": "list", "data": newest, "has_more": False, "url": path}
        if route.startswith("GET /v1/charges/"):
            charge = self.charges.get(path.rsplit("/", 1)[1])
            return (200, charge) if charge else _missing("charge")
        if route == "POST /v1/refunds":
            return self._refund(one)
        if route.startswith("DELETE /v1/subscriptions/"):
            subscription = path.rsplit("/", 1)[1]
            self.canceled.append(subscription)
            return 200, {"id": subscription, "object": "subscription", "status": "canceled"}
        return _missing("route")

    def _refund(self, form: dict[str, str]) -> tuple[int, Any]:
        charge = self.charges.get(form.get("charge", ""))
        if charge is None:
            return _missing("charge")
        left = charge["amount"] - charge["amount_refunded"]
        amount = int(form.get("amount", left))
        if not 0 < amount <= left:
            error = {"type": "invalid_request_error", "code": "amount_too_large"}
            return 400, {"error": {**error, "message": "Refund amount is too large."}}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = {
            "id": f"re_{secrets.token_hex(8)}",
            "object": "refund",
            "charge": charge["id"],
            "amount": amount,
            "currency": charge["currency"],
            "status": "succeeded",
            "reason": form.get("reason"),
            "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
        }
        self.refunds[refund["id"]] = refund
        return 200, refund


def _missing(what: str) -> tuple[int, dict[str, Any]]:
    error = {"type": "invalid_request_error", "code": "resource_missing"}
    return 404, {"error": {**error, "message": f"No such {what}"}}


class _StripeHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        stand_in: StripeStandIn = self.server.state  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        path, _, query = self.path.partition("?")
        form = urllib.parse.parse_qs(self.rfile.read(length).decode() or query)
        if self.headers.get("Authorization") != f"Bearer {stand_in.secret_key}":
            self._answer(401, {"error": {"type": "invalid_request_error", "message": "bad key"}})
            return
        key = self.headers.get("Idempotency-Key") if method == "POST" else None
        with stand_in.lock:
            stand_in.requests.append((path, form))
            if key is not None and key in stand_in.replies:
                status, body = stand_in.replies[key]
            else:
                status, body = stand_in.answer(method, path, form)
                if key is not None and status == 200:
                    stand_in.replies[key] = (status, body)
        self._answer(status, body)

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_{secrets.token_hex(4)}")
        self.send_header("Stripe-Should-Retry", "false")  # a failure stays one, at once
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def stripe_server(secret_key: str) -> Iterator[tuple[StripeStandIn, str]]:
    stand_in = StripeStandIn(secret_key)
    with serving(_StripeHandler, stand_in) as url:
        yield stand_in, url
