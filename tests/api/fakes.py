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
    """Answers ``POST /v1/checkout/sessions`` and ``/v1/billing_portal/sessions`` like Stripe."""

    def __init__(self, secret_key: str) -> None:
        self.secret_key = secret_key
        self.requests: list[tuple[str, dict[str, list[str]]]] = []


class _StripeHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        stand_in: StripeStandIn = self.server.state  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        if self.headers.get("Authorization") != f"Bearer {stand_in.secret_key}":
            self._answer(401, {"error": {"type": "invalid_request_error", "message": "bad key"}})
            return
        stand_in.requests.append((self.path, form))
        token = secrets.token_hex(6)
        if self.path == "/v1/checkout/sessions":
            self._answer(
                200,
                {
                    "id": f"cs_test_{token}",
                    "object": "checkout.session",
                    "url": f"https://checkout.stripe.test/c/{token}",
                    "client_reference_id": form.get("client_reference_id", [None])[0],
                },
            )
        elif self.path == "/v1/billing_portal/sessions":
            self._answer(
                200,
                {
                    "id": f"bps_{token}",
                    "object": "billing_portal.session",
                    "url": f"https://billing.stripe.test/p/{token}",
                    "customer": form.get("customer", [None])[0],
                },
            )
        else:
            self._answer(404, {"error": {"type": "invalid_request_error", "message": "no route"}})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_{secrets.token_hex(4)}")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def stripe_server(secret_key: str) -> Iterator[tuple[StripeStandIn, str]]:
    stand_in = StripeStandIn(secret_key)
    with serving(_StripeHandler, stand_in) as url:
        yield stand_in, url
