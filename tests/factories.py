"""Plain functions that build test inputs (no fixtures hiding state)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tradebot.candles.model import Candles

BASE_TS = 1_733_011_200_000  # 2024-12-01 00:00 UTC


def make_candles(
    rows: Sequence[tuple[float, float, float, float]],
    *,
    start_ts: int = BASE_TS,
    timeframe_ms: int = 60_000,
) -> Candles:
    """Candles from (open, high, low, close) rows, one timeframe apart."""
    data = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
    n = data.shape[0]
    return Candles(
        ts=start_ts + np.arange(n, dtype=np.int64) * timeframe_ms,
        open=data[:, 0].copy(),
        high=data[:, 1].copy(),
        low=data[:, 2].copy(),
        close=data[:, 3].copy(),
        volume=np.ones(n),
        timeframe_ms=timeframe_ms,
        source="test",
    )
