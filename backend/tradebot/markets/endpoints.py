"""Route of market data: parse, authorise, call one service method.

The ``CandleService`` lives as long as the app: this router's lifespan opens it on
``app.state.candles`` (on the sandbox exchange when ``EXCHANGE_SANDBOX_URL`` is set) and closes
its exchange connections on the way out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request

from tradebot.auth.dependencies import CurrentClient
from tradebot.kit.web import ApiContext, app_port
from tradebot.markets.schemas import CandleSeries, Timeframe
from tradebot.markets.service import MAX_CANDLES, CandleService
from tradebot.markets.source import RecentCandleSource
from tradebot.venues.retry import Backoff

REQUEST_BACKOFF = Backoff(attempts=2, base_s=0.25, cap_s=1.0)
"""A chart's request waits for one quick retry at most, not a batch job's patience."""


@asynccontextmanager
async def _candles_lifespan(app: FastAPI) -> AsyncIterator[None]:
    context: ApiContext = app.state.context  # the app's own lifespan has opened it
    settings = context.settings

    def open_source(exchange: str) -> RecentCandleSource:
        source = RecentCandleSource.open(
            exchange,
            sandbox_url=settings.EXCHANGE_SANDBOX_URL,
            timeout_ms=settings.EXCHANGE_TIMEOUT_MS,
            backoff=REQUEST_BACKOFF,
        )
        assert isinstance(source, RecentCandleSource)
        return source

    service = CandleService(open_source, settings.DEFAULT_EXCHANGE)
    app.state.candles = service
    try:
        yield
    finally:
        await service.close()


router = APIRouter(prefix="/candles", tags=["markets"], lifespan=_candles_lifespan)


async def _candles(request: Request) -> CandleService:
    service: CandleService = app_port(request, "candles")
    return service


Candles = Annotated[CandleService, Depends(_candles)]
Pair = Annotated[str, Query(pattern=r"^[A-Z0-9]{2,12}/[A-Z0-9]{2,12}$", examples=["BTC/USDT"])]


@router.get("")
async def get_candles(
    service: Candles,
    _user: CurrentClient,
    pair: Pair,
    timeframe: Timeframe = "1m",
    limit: Annotated[int, Query(ge=1, le=MAX_CANDLES)] = 500,
) -> CandleSeries:
    """The newest closed candles of a pair (time in unix seconds), for charts. A pair or
    timeframe the exchange does not list is a 422; an exchange that does not answer, a 503."""
    return await service.recent(pair, timeframe, limit)
