"""``create_app(settings)``: the FastAPI app with its middleware, problem bodies and routers.

Resources (database engine, Redis, the HTTP client for the JWKS, Stripe) are opened in the
lifespan and closed with it. ``admin_only`` builds the operator app that ``tradebot
admin-server`` serves on ``ADMIN_PORT``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from arq.connections import ArqRedis
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from prometheus_fastapi_instrumentator import Instrumentator
from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

from tradebot.admin.endpoints import router as admin_router
from tradebot.api.middleware import BodySizeLimit, IpRateLimit
from tradebot.api.problems import install_problem_handlers
from tradebot.auth.dependencies import AuthPorts
from tradebot.auth.endpoints import router as me_router
from tradebot.auth.jwks import JwksCache
from tradebot.auth.service import LoginService
from tradebot.auth.tokens import TokenVerifier
from tradebot.backtests.endpoints import router as backtests_router
from tradebot.billing.endpoints import router as billing_router
from tradebot.billing.endpoints import webhooks as webhooks_router
from tradebot.billing.gateway import StripeGateway, WebhookVerifier
from tradebot.bots.endpoints import bots as bots_router
from tradebot.config import Settings
from tradebot.consent.endpoints import router as consent_router
from tradebot.credentials.endpoints import router as credentials_router
from tradebot.db import create_engine, create_pooled_engine, session_factory
from tradebot.dex.endpoints import router as dex_router
from tradebot.kit.ratelimit import RequestLimiter
from tradebot.kit.web import ApiContext, ContextDep
from tradebot.markets.endpoints import router as markets_router
from tradebot.notifications.endpoints import router as notifications_router
from tradebot.observability.request_context import RequestLogContext
from tradebot.onboarding.endpoints import router as onboarding_router
from tradebot.runs.endpoints import kill_switch as kill_switch_router
from tradebot.runs.endpoints import runs as runs_router
from tradebot.runs.queue import ArqRunQueue
from tradebot.track_records.endpoints import public as public_track_records_router
from tradebot.track_records.endpoints import router as track_records_router
from tradebot.venues.permissions import KeyPermissionCheck

TAGS = [
    {"name": "me", "description": "The caller, their client and its audit trail."},
    {"name": "credentials", "description": "Exchange keys: stored sealed, listed masked."},
    {"name": "bots", "description": "Grid configurations with their plan preview."},
    {"name": "backtests", "description": "Backtest jobs, results and exports."},
    {"name": "runs", "description": "Paper and live runs, their orders, fills, equity, guards."},
    {"name": "onboarding", "description": "The way to live trading: what is done, what is left."},
    {"name": "markets", "description": "Public market data for charts: a pair's candles."},
    {"name": "billing", "description": "Plans, Stripe Checkout and the Customer Portal."},
    {"name": "webhooks", "description": "Stripe's events (signed)."},
    {"name": "admin", "description": "Operator routes across clients."},
    {"name": "health", "description": "Liveness of the API and what it depends on."},
]


def operation_id(route: APIRoute) -> str:
    """Stable ``{tag}-{name}`` operation ids (clean generated clients)."""
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


health = APIRouter(tags=["health"])


@health.get("/healthz")
async def check_health(context: ContextDep) -> dict[str, str]:
    async with context.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    await context.redis.ping()
    return {"status": "ok"}


def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout: a connection the server closed (a restart) is replaced, not handed out."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the database closed this connection")


def _engine(url: str) -> AsyncEngine:
    """The API's engine: on PostgreSQL, plans made with the values and a steady pool.

    ``force_custom_plan``: tenants differ in size by orders of magnitude, and a prepared
    statement's generic plan (used after five runs on a connection) guesses from the average;
    for the run status it walked a big client's whole ``client_id`` index and sorted a month of
    snapshots for a ``LIMIT $1``: 10 to 40 ms of database time instead of about 3.

    The pool keeps open the 15 connections SQLAlchemy's default allows (5 + 10 overflow). A
    connection the server closed is noticed at checkout without a round trip
    (``_refuse_closed``), since the pool does not ping.
    """
    if not url.startswith("postgresql"):
        return create_engine(url)
    engine = create_pooled_engine(
        url, 15, connect_args={"server_settings": {"plan_cache_mode": "force_custom_plan"}}
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _verifier(settings: Settings, http: httpx.AsyncClient) -> TokenVerifier | None:
    if not (settings.AUTH0_ISSUER and settings.AUTH0_AUDIENCE):
        return None
    issuer = settings.AUTH0_ISSUER
    jwks = JwksCache(f"{issuer.rstrip('/')}/.well-known/jwks.json", http)
    return TokenVerifier(
        issuer, settings.AUTH0_AUDIENCE, jwks, roles_claim=settings.AUTH0_ROLES_CLAIM
    )


def create_app(
    settings: Settings,
    *,
    key_check: KeyPermissionCheck | None = None,
    admin_only: bool = False,
) -> FastAPI:
    """The API of ``settings``; ``key_check`` asks exchanges about keys (unset: unverified)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = _engine(settings.database_url)
        redis = ArqRedis.from_url(settings.REDIS_URL)
        http = httpx.AsyncClient(follow_redirects=False)
        sessions = session_factory(engine)
        secret = settings.STRIPE_WEBHOOK_SECRET
        app.state.context = ApiContext(
            settings=settings,
            engine=engine,
            sessions=sessions,
            redis=redis,
            http=http,
            limiter=RequestLimiter(redis, settings.REDIS_PREFIX, settings.API_RATE_WINDOW_S),
        )
        # Each domain's port, read by that domain's own dependency (``kit.web.app_port``).
        app.state.auth = AuthPorts(
            logins=LoginService(sessions, settings.AUTH0_ADMIN_PERMISSION),
            verifier=_verifier(settings, http),
        )
        app.state.stripe = StripeGateway(settings) if settings.STRIPE_SECRET_KEY else None
        app.state.stripe_webhooks = WebhookVerifier(secret.get_secret_value()) if secret else None
        app.state.run_queue = ArqRunQueue(redis, settings.RUN_QUEUE_NAME)
        app.state.key_check = key_check
        try:
            yield
        finally:
            await http.aclose()
            await redis.aclose()
            await engine.dispose()

    app = FastAPI(
        title="TradeBot API" + (" (operators)" if admin_only else ""),
        version="1",
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.add_middleware(
        IpRateLimit,
        limiter=lambda: getattr(getattr(app.state, "context", None), "limiter", None),
        limit=settings.API_RATE_LIMIT_PER_IP,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.API_MAX_BODY_BYTES)
    app.add_middleware(RequestLogContext)
    routers = [health, admin_router]
    if not admin_only:
        routers += [
            me_router,
            credentials_router,
            bots_router,
            backtests_router,
            runs_router,
            kill_switch_router,
            dex_router,
            onboarding_router,
            consent_router,
            notifications_router,
            track_records_router,
            public_track_records_router,
            markets_router,
            billing_router,
            webhooks_router,
        ]
    for router in routers:
        app.include_router(router)
    # Requests by route template (``/runs/{run_id}``), never the raw path: one series per
    # route, however many runs; unmatched paths count together as "none".
    Instrumentator(excluded_handlers=["/metrics"]).instrument(app).expose(
        app, include_in_schema=False
    )
    return app
