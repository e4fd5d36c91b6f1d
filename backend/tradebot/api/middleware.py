"""Pure ASGI middleware: a request body size limit and the per-IP rate limit.

Both answer with a problem body before any route runs. The per-client limit needs to know the
client, so it is applied by the authentication dependency instead (``api.deps``).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradebot.api.problems import problem
from tradebot.kit.ratelimit import RequestLimiter, TooManyRequestsError

UNLIMITED_PATHS = frozenset({"/healthz"})


class BodySizeLimit:
    """Refuse bodies over ``max_bytes`` with 413, by header or by counting what arrives."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = problem(
            413, "too-large", "Request body too large", f"at most {self.max_bytes} bytes"
        )
        length = dict(scope.get("headers", ())).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await too_large(scope, receive, send)
            return
        received = 0
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > self.max_bytes and not started:
                    # Answer now and tell the app the client is gone: frameworks turn an
                    # exception raised here into their own 400, so we do not raise.
                    refused = True
                    await too_large(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 already went out
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:
                raise


class IpRateLimit:
    """At most ``limit`` requests per window from one client address.

    The address is the connection's peer, or the client a proxy listed in
    ``API_TRUSTED_PROXIES`` forwarded (``tradebot api`` trusts forwarded headers from those
    proxies only).
    If Redis is unreachable or silent the request goes through (``RequestLimiter`` logs the
    outage once): a limiter outage must not take the API down with it.
    """

    def __init__(
        self, app: ASGIApp, limiter: Callable[[], RequestLimiter | None], limit: int
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter = self.limiter()
        if scope["type"] != "http" or limiter is None or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        try:
            await limiter.hit(f"ip:{address}", self.limit, "this address")
        except TooManyRequestsError as exc:
            refused = problem(
                429,
                "rate-limited",
                "Too many requests",
                str(exc),
                headers={"Retry-After": str(exc.retry_after)},
            )
            await refused(scope, receive, send)
            return
        await self.app(scope, receive, send)
