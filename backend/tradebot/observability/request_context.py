"""The log context of one API request: nothing before it, nothing left after it.

The authentication dependency binds the caller's ``client_id`` (and the ``run_id`` of a route
about a run; the run's ``pair`` is bound where the run is read) with ``logs.bind_log_context``;
every line of the request carries them, uvicorn's access line too (it is written while the
response starts, inside the request). Uvicorn gives each request a task of its own, whose
context dies with it; an app called in the caller's task (``httpx.ASGITransport``, a test)
would keep the request's fields, so the context is restored here when the request ends.
"""

from __future__ import annotations

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send


class RequestLogContext:
    """Pure ASGI middleware: each request starts with an empty log context and leaves the
    caller's as it found it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        before = structlog.contextvars.get_contextvars()
        structlog.contextvars.clear_contextvars()
        try:
            await self.app(scope, receive, send)
        finally:
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(**before)
