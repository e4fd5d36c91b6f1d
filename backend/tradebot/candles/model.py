"""A candle series as columns: what the engine walks and what reports chart."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tradebot.errors import CandleDataError

TIMEFRAMES_MS = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
}
DAY_MS = 86_400_000


def timeframe_ms(timeframe: str) -> int:
    try:
        return TIMEFRAMES_MS[timeframe]
    except KeyError:
        known = ", ".join(TIMEFRAMES_MS)
        raise CandleDataError(f"unknown timeframe {timeframe!r} (known: {known})") from None


def timeframe_name(ms: int) -> str:
    for name, value in TIMEFRAMES_MS.items():
        if value == ms:
            return name
    return f"{ms}ms"


@dataclass(frozen=True, slots=True)
class Candles:
    """OHLCV columns; ``ts`` is the candle's open time in integer milliseconds UTC, ascending."""

    ts: npt.NDArray[np.int64]
    open: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    close: npt.NDArray[np.float64]
    volume: npt.NDArray[np.float64]
    timeframe_ms: int
    source: str = field(default="")

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def slice(self, start: int, stop: int) -> Candles:
        return Candles(
            ts=self.ts[start:stop],
            open=self.open[start:stop],
            high=self.high[start:stop],
            low=self.low[start:stop],
            close=self.close[start:stop],
            volume=self.volume[start:stop],
            timeframe_ms=self.timeframe_ms,
            source=self.source,
        )

    def first_days(self, days: float) -> Candles:
        """The candles opening within ``days`` of the first one."""
        end = self.ts[0] + int(days * DAY_MS)
        return self.slice(0, int(np.searchsorted(self.ts, end, side="left")))

    def window(self, start_ms: int, end_ms: int) -> Candles:
        """Candles whose open time is in [start_ms, end_ms)."""
        lo = int(np.searchsorted(self.ts, start_ms, side="left"))
        hi = int(np.searchsorted(self.ts, end_ms, side="left"))
        return self.slice(lo, hi)

    def day_ends(self) -> npt.NDArray[np.int64]:
        """Index of the last candle of every UTC day present."""
        day = self.ts // DAY_MS
        ends = np.flatnonzero(day[1:] != day[:-1])
        return np.append(ends, len(self) - 1).astype(np.int64)
