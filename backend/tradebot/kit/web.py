"""FastAPI plumbing every router shares, free of any domain: the app's resources and path ids.

The domains' own ports (the token verifier, Stripe, the run queue, the key check) are not here:
each domain reads its own from ``app.state`` through a dependency of its own, so this module
imports no domain and every domain's routes can import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import httpx
from fastapi import Depends, Path, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tradebot.config import Settings
from tradebot.kit.ratelimit import RequestLimiter


@dataclass
class ApiContext:
    """What the routes share for the app's lifetime: settings, database, Redis, HTTP client."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    http: httpx.AsyncClient
    limiter: RequestLimiter


async def api_context(request: Request) -> ApiContext:
    # Dependencies are ``async def`` even without an await: FastAPI runs a plain ``def``
    # dependency in a worker thread, a thread hop per request for a dictionary lookup.
    context: ApiContext = request.app.state.context
    return context


def app_port(request: Request, name: str) -> Any:
    """The port a domain stored on ``app.state`` under ``name`` at start-up (``None``: unset)."""
    return getattr(request.app.state, name, None)


ContextDep = Annotated[ApiContext, Depends(api_context)]

RowId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
"""A bot, run or backtest id in a path: anything else cannot exist (and is a 422)."""
ClientIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
