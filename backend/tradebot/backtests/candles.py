"""Candles of a backtest job: the bundled demo week, or rows uploaded with the request."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from tradebot.candles.io import bundled, load_candles
from tradebot.candles.model import Candles
from tradebot.candles.validate import infer_timeframe, require_valid

BUNDLED = "bundled"


@lru_cache(maxsize=1)
def bundled_week() -> Candles:
    return load_candles(bundled())


def uploaded(rows: list[list[float]]) -> Candles:
    """Validated candles from ``[ts_ms, open, high, low, close(, volume)]`` rows."""
    data = np.asarray([row[:5] for row in rows], dtype=np.float64)
    volume = np.asarray([row[5] if len(row) > 5 else 0.0 for row in rows], dtype=np.float64)
    ts = data[:, 0].astype(np.int64)
    candles = Candles(
        ts=ts,
        open=np.ascontiguousarray(data[:, 1]),
        high=np.ascontiguousarray(data[:, 2]),
        low=np.ascontiguousarray(data[:, 3]),
        close=np.ascontiguousarray(data[:, 4]),
        volume=volume,
        timeframe_ms=infer_timeframe(ts),
        source="uploaded candles",
    )
    require_valid(candles)
    return candles


def job_candles(rows: list[list[float]] | None, days: float) -> Candles:
    candles = bundled_week() if rows is None else uploaded(rows)
    return candles.first_days(days)
