"""The newest closed candles of a pair from an exchange's public OHLCV, through the venues'
ccxt source (its markets check, retries, error translation and open-candle cut)."""

from __future__ import annotations

from collections.abc import Sequence

from tradebot.candles.model import timeframe_ms
from tradebot.venues.ccxt_market_data import CcxtOhlcvSource


class RecentCandleSource(CcxtOhlcvSource):
    """``CcxtOhlcvSource`` asked for the last candles rather than a range."""

    async def recent(self, pair: str, timeframe: str, count: int) -> Sequence[Sequence[float]]:
        """The ``count`` newest closed candles (fewer if the exchange has fewer), oldest first:
        from ``count`` candle lengths before the exchange's own clock (a sandbox replaying the
        past has its own), so the page ends at the candle still forming, which is left out."""
        await self.check(pair, timeframe)  # an unknown pair or timeframe is a BadInputError
        now = await self._exchange_now(pair)
        length = timeframe_ms(timeframe)
        since = now - now % length - count * length
        return await self.fetch_page(pair, timeframe, since, count)
