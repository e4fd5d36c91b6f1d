"""Recent candles for the portal's charts, shared by every user of the API process.

One exchange source per exchange (its markets loaded once), one request at a time per exchange
(another caller waiting for the same series finds it cached once the first has fetched it),
and each series kept ``CANDLES_TTL_S`` seconds: a thousand portals open on BTC/USDT 1m cost the
exchange one request every few seconds, not a thousand. A series is fetched at its longest
(``MAX_CANDLES``) and cut to each caller's ``limit``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from tradebot.errors import BadInputError
from tradebot.kit.cache import ExpiringCache
from tradebot.markets.schemas import Candle, CandleSeries

MAX_CANDLES = 1000
CANDLES_TTL_S = 5.0
"""How long a fetched series is served from memory (a 1m chart lags a close by at most this)."""
CACHED_SERIES = 512

Rows = Sequence[Sequence[float]]


class CandleSource(Protocol):
    """An exchange's newest candles (``markets.source.RecentCandleSource`` on ccxt)."""

    async def recent(self, pair: str, timeframe: str, count: int) -> Rows:
        """The ``count`` newest closed ``[open ms, open, high, low, close, volume]`` rows."""
        ...

    async def close(self) -> None: ...


SourceFactory = Callable[[str], CandleSource]
"""Opens the source of an exchange id (the real exchange, or the sandbox in tests)."""


class CandleService:
    def __init__(
        self,
        open_source: SourceFactory,
        exchange: str,
        *,
        ttl_s: float = CANDLES_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_source = open_source
        self.exchange = exchange
        """Where the candles come from (the API's ``DEFAULT_EXCHANGE``)."""
        self._ttl_s = ttl_s
        self._cache: ExpiringCache[tuple[str, str, str], Rows] = ExpiringCache(CACHED_SERIES, clock)
        self._sources: dict[str, CandleSource] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.fetches = 0
        """Requests made to exchanges (the rest came from the cache)."""

    async def recent(self, pair: str, timeframe: str, limit: int) -> CandleSeries:
        """The ``limit`` newest closed candles of ``pair``; a pair or timeframe the exchange
        does not list is a ``BadInputError``, an exchange that does not answer a
        ``CandleFetchError``."""
        exchange = self.exchange
        if not 1 <= limit <= MAX_CANDLES:
            raise BadInputError(f"limit must be 1..{MAX_CANDLES} (got {limit})")
        rows = await self._series(exchange, pair, timeframe)
        candles = [
            Candle(
                time=int(row[0]) // 1000,
                open=row[1],
                high=row[2],
                low=row[3],
                close=row[4],
                volume=row[5],
            )
            for row in rows[-limit:]
        ]
        return CandleSeries(exchange=exchange, pair=pair, timeframe=timeframe, candles=candles)

    async def _series(self, exchange: str, pair: str, timeframe: str) -> Rows:
        key = (exchange, pair, timeframe)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        async with self._locks.setdefault(exchange, asyncio.Lock()):
            cached = self._cache.get(key)  # fetched meanwhile by the caller this one waited for
            if cached is not None:
                return cached
            source = self._sources.get(exchange)
            if source is None:
                source = self._sources[exchange] = self._open_source(exchange)
            self.fetches += 1
            rows = list(await source.recent(pair, timeframe, MAX_CANDLES))
        self._cache.put(key, rows, self._ttl_s)
        return rows

    async def close(self) -> None:
        sources, self._sources = list(self._sources.values()), {}
        for source in sources:
            await source.close()
