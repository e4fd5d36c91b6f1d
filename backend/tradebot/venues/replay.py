"""A candle replay as a stream of ticks: each candle's open (a jump), then its three segments.

Timestamps come from the candles shifted so the first open is at ``base_ts``
(PAPER_MODE_BASE_TS), so the same candles and base give the same times on every run.
"""

from __future__ import annotations

from collections.abc import Iterator

from tradebot.candles.model import Candles
from tradebot.engine.walk import candle_segments
from tradebot.runtime.ports import Tick


def replay_ticks(
    candles: Candles, base_ts: int | None = None, start_after: int = -1
) -> Iterator[Tick]:
    """Ticks of every candle; with ``start_after`` only those with ts > start_after (resume)."""
    shift = 0 if base_ts is None or len(candles) == 0 else base_ts - int(candles.ts[0])
    tf = candles.timeframe_ms
    for ts, o, h, lo, c in zip(
        (candles.ts + shift).tolist(),
        candles.open.tolist(),
        candles.high.tolist(),
        candles.low.tolist(),
        candles.close.tolist(),
        strict=True,
    ):
        if ts + tf - 1 <= start_after:
            continue
        if ts > start_after:
            yield Tick(ts, o, None)
        first, second, third = candle_segments(ts, tf, o, h, lo, c)
        for segment in (first, second):
            if segment.ts > start_after:
                yield Tick(segment.ts, segment.price, segment.direction)
        yield Tick(third.ts, third.price, third.direction, closes_candle=True)
