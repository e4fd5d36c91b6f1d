"""``tradebot ops-server``: the kill switch on ``KILL_SWITCH_PORT`` and the status dashboard on
``DASHBOARD_PORT``, two small apps served by one process.

Both answer only to ``ADMIN_API_TOKEN``: as a bearer token (scripts, the kill switch's
callers) or as the password of HTTP Basic (a browser asks for it once; the user name is not
checked). The kill switch's routes:

- ``POST /kill-switch/trip`` and ``POST /kill-switch/reset`` with ``{"reach": "run" | "client"
  | "all", "target": run or client id, "reason": ..., "actor": who}``.

The dashboard: ``GET /`` (HTML, refreshing itself every ``REFRESH_S``) and ``GET /api/status``
(the same figures as JSON).
"""

from __future__ import annotations

import base64
import binascii
import hmac

from fastapi import Depends, FastAPI, Request, params
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.errors import BadInputError, NotFoundError, TradeBotError
from tradebot.ops.dashboard import render_status_page
from tradebot.ops.kill_switch import FleetKillSwitch, Reach, SwitchOutcome
from tradebot.ops.status import FleetStatus, fleet_status
from tradebot.runs.queue import RunQueue

REALM = "TradeBot operations"


class Unauthorized(Exception):
    """No token, or not the operators' one."""


class SwitchRequest(BaseModel):
    reach: Reach
    target: str | None = Field(default=None, max_length=128)
    reason: str = Field(min_length=1, max_length=400)
    actor: str = Field(min_length=1, max_length=120)
    """Who does it: kept in the client's audit trail (as ``ops:<actor>``)."""


def _presented_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2]
    return None


def _guarded(app: FastAPI, token: str) -> params.Depends:
    """A dependency that refuses any request without ``token``; installs its 401 answer."""

    async def require_operator(request: Request) -> None:
        presented = _presented_token(request)
        if presented is None or not hmac.compare_digest(presented.encode(), token.encode()):
            raise Unauthorized

    async def unauthorized(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse(
            {"detail": "the operators' token is required"},
            status_code=401,
            headers={"WWW-Authenticate": f'Basic realm="{REALM}"'},  # a browser asks
        )

    app.add_exception_handler(Unauthorized, unauthorized)
    dependency: params.Depends = Depends(require_operator)
    return dependency


async def _our_error(_request: Request, exc: Exception) -> JSONResponse:
    status = (
        404 if isinstance(exc, NotFoundError) else 400 if isinstance(exc, BadInputError) else 409
    )
    return JSONResponse({"detail": str(exc)}, status_code=status)


def kill_switch_app(
    sessions: async_sessionmaker[AsyncSession], queue: RunQueue, token: str
) -> FastAPI:
    app = FastAPI(title="TradeBot kill switch", openapi_url=None, docs_url=None, redoc_url=None)
    app.add_exception_handler(TradeBotError, _our_error)
    guard = _guarded(app, token)
    switch = FleetKillSwitch(sessions, queue)

    @app.post("/kill-switch/trip", dependencies=[guard])
    async def trip(body: SwitchRequest) -> SwitchOutcome:
        return await switch.trip(body.reach, body.target, body.reason, f"ops:{body.actor}")

    @app.post("/kill-switch/reset", dependencies=[guard])
    async def reset(body: SwitchRequest) -> SwitchOutcome:
        return await switch.reset(body.reach, body.target, body.reason, f"ops:{body.actor}")

    return app


def dashboard_app(sessions: async_sessionmaker[AsyncSession], token: str) -> FastAPI:
    app = FastAPI(title="TradeBot status", openapi_url=None, docs_url=None, redoc_url=None)
    guard = _guarded(app, token)

    @app.get("/api/status", dependencies=[guard])
    async def status() -> FleetStatus:
        return await fleet_status(sessions)

    @app.get("/", response_class=HTMLResponse, dependencies=[guard])
    async def page() -> HTMLResponse:
        return HTMLResponse(render_status_page(await fleet_status(sessions)))

    return app


async def serve(
    database_url: str,
    redis_url: str,
    queue_name: str,
    token: str,
    *,
    host: str,
    kill_switch_port: int,
    dashboard_port: int,
) -> None:
    """Both apps on their ports until the process is told to stop (SIGINT / SIGTERM)."""
    import asyncio

    import uvicorn
    from arq.connections import ArqRedis

    from tradebot.db import create_pooled_engine, session_factory
    from tradebot.runs.queue import ArqRunQueue

    engine = create_pooled_engine(database_url, 5)
    redis = ArqRedis.from_url(redis_url)
    sessions = session_factory(engine)
    apps = [
        (kill_switch_app(sessions, ArqRunQueue(redis, queue_name), token), kill_switch_port),
        (dashboard_app(sessions, token), dashboard_port),
    ]
    servers = [
        # log_config=None: uvicorn's lines go through the root's JSON handler (cli.main).
        uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None))
        for app, port in apps
    ]
    try:
        await asyncio.gather(*(server.serve() for server in servers))
    finally:
        await redis.aclose()
        await engine.dispose()
