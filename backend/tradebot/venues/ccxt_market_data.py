"""Candle pages from an exchange through ccxt: ``candles.fetch.OhlcvSource`` for ccxt.

ccxt's rate limiter spaces the requests; a transient failure (network, timeout, 5xx, garbage,
429/418) is retried with backoff and jitter, waiting at least the server's Retry-After; anything
else becomes one clear error line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import ccxt

from tradebot.candles.fetch import CandleFetchError
from tradebot.errors import BadInputError
from tradebot.runtime.ports import FatalVenueError, VenueError
from tradebot.venues.ccxt_errors import translate
from tradebot.venues.ccxt_factory import make_exchange
from tradebot.venues.retry import Backoff, call_with_retries


class UnknownPairError(BadInputError):
    """A pair (or timeframe) the exchange does not list."""


class CcxtOhlcvSource:
    """OHLCV pages of one ccxt exchange (public data: no keys)."""

    def __init__(
        self, exchange: Any, *, name: str | None = None, backoff: Backoff | None = None
    ) -> None:
        self.exchange = exchange
        self._name = name or str(exchange.id)
        self.backoff = backoff or Backoff()
        self._now: int | None = None

    @classmethod
    def open(
        cls,
        exchange_id: str,
        *,
        sandbox_url: str | None = None,
        backoff: Backoff | None = None,
        timeout_ms: int = 10_000,
    ) -> CcxtOhlcvSource:
        """Build the exchange; a sandbox gets its own cache name (its data is not the real one)."""
        exchange = make_exchange(exchange_id, sandbox_url=sandbox_url, timeout_ms=timeout_ms)
        name = exchange_id
        if sandbox_url:
            name += "-sandbox-" + hashlib.sha256(sandbox_url.encode()).hexdigest()[:8]
        return cls(exchange, name=name, backoff=backoff)

    @property
    def name(self) -> str:
        return self._name

    @property
    def page_limit(self) -> int:
        features = getattr(self.exchange, "features", None) or {}
        limit = (features.get("spot") or {}).get("fetchOHLCV", {}).get("limit")
        return int(limit) if limit else 500

    async def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await call_with_retries(
                lambda: fn(*args, **kwargs),
                lambda exc: translate(exc, self.exchange),
                self.backoff,
                catch=(ccxt.BaseError,),
            )
        except FatalVenueError as exc:
            if isinstance(exc.__cause__, ccxt.BadSymbol):
                raise UnknownPairError(f"{what}: {exc}") from None
            raise CandleFetchError(f"{self.exchange.id} refused {what}: {exc}") from None
        except VenueError as exc:
            raise CandleFetchError(f"{self.exchange.id}: {what} failed: {exc}") from None

    async def check(self, pair: str, timeframe: str) -> None:
        self._now = None  # a new fetch reads the exchange's clock afresh
        markets = await self._call("loading markets", self.exchange.load_markets)
        if pair not in markets:
            raise UnknownPairError(f"{pair} is not a pair on {self.exchange.id}")
        timeframes = getattr(self.exchange, "timeframes", None) or {}
        if timeframe not in timeframes:
            raise UnknownPairError(
                f"{self.exchange.id} has no {timeframe!r} candles (it has {', '.join(timeframes)})"
            )

    async def _exchange_now(self, pair: str) -> int:
        """The exchange's clock: the ticker's time, capped by ours. (A replaying sandbox lives
        in the past; either way a candle that closes after it is still open.)"""
        if self._now is None:
            ticker = await self._call(f"{pair} ticker", self.exchange.fetch_ticker, pair)
            now = int(self.exchange.milliseconds())
            stamp = ticker.get("timestamp")
            self._now = min(now, int(stamp)) if stamp else now
        return self._now

    async def fetch_page(
        self, pair: str, timeframe: str, since_ms: int, limit: int
    ) -> Sequence[Sequence[float]]:
        now = await self._exchange_now(pair)
        fetch = self.exchange.fetch_ohlcv
        rows = await self._call(
            f"{pair} {timeframe} candles", fetch, pair, timeframe, since_ms, limit
        )
        tf_ms = int(self.exchange.parse_timeframe(timeframe) * 1000)
        closed = []
        for row in rows:
            if len(row) < 6 or any(v is None for v in row[:5]):
                raise CandleFetchError(f"{self.exchange.id}: a candle row is incomplete: {row!r}")
            if int(row[0]) + tf_ms <= now:  # the candle still open is not a candle yet
                closed.append([float(v) if v is not None else 0.0 for v in row[:6]])
        return closed

    async def close(self) -> None:
        await self.exchange.close()
