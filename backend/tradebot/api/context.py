"""What the routes share for the app's lifetime: settings, database, Redis, ports."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tradebot.auth.service import LoginService
from tradebot.auth.tokens import TokenVerifier
from tradebot.billing.gateway import StripeGateway, WebhookVerifier
from tradebot.config import Settings
from tradebot.credentials.permissions import KeyPermissionCheck
from tradebot.kit.ratelimit import RateLimiter
from tradebot.runs.queue import RunQueue


@dataclass
class ApiContext:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    http: httpx.AsyncClient
    limiter: RateLimiter
    logins: LoginService
    verifier: TokenVerifier | None
    """``None`` when AUTH0_ISSUER / AUTH0_AUDIENCE are unset: only the admin token works."""
    stripe: StripeGateway | None
    """``None`` when STRIPE_SECRET_KEY is unset: checkout and portal answer 503."""
    webhooks: WebhookVerifier | None
    """``None`` when STRIPE_WEBHOOK_SECRET is unset: the webhook answers 503."""
    queue: RunQueue
    key_check: KeyPermissionCheck | None
    """Asks the exchange what a key may do; ``None`` stores keys unverified (paper only)."""
