"""The replayed market: a position in a candle series and what the public endpoints show of it.

The position is (candle, segments walked). Each candle is walked as the spec's three segments
(``engine.walk.candle_segments``); after the third, the price jumps to the next candle's open.
Candles before the position are history; the current candle is shown partial (its open, the
extremes of the segments walked so far, and the last price as its close), as Binance shows the
candle that is still open.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from tradebot.candles.model import Candles
from tradebot.engine.walk import Direction, Segment, candle_segments
from tradebot.venues.exchange_sim.wire import fmt

DAY_MS = 86_400_000
Rows = dict[str, npt.NDArray[np.float64] | npt.NDArray[np.int64]]


@dataclass(frozen=True, slots=True)
class Position:
    """``index`` = current candle (len(candles) once the replay has ended); ``walked`` = 0..2."""

    index: int
    walked: int


@dataclass(frozen=True, slots=True)
class Step:
    """One walked segment, and the next candle's open when this segment closed a candle."""

    segment: Segment
    next_open: float | None


class MarketReplay:
    def __init__(self, candles: Candles, start_index: int = 0) -> None:
        self.candles = candles
        self.position = Position(start_index, 0)

    @property
    def timeframe_ms(self) -> int:
        return self.candles.timeframe_ms

    @property
    def done(self) -> bool:
        return self.position.index >= len(self.candles)

    def segments(self, index: int) -> tuple[Segment, Segment, Segment]:
        c = self.candles
        return candle_segments(
            int(c.ts[index]),
            self.timeframe_ms,
            float(c.open[index]),
            float(c.high[index]),
            float(c.low[index]),
            float(c.close[index]),
        )

    def price_at(self, pos: Position) -> float:
        """The last traded price at a position."""
        if pos.index >= len(self.candles):
            return float(self.candles.close[-1])
        if pos.walked == 0:
            return float(self.candles.open[pos.index])
        return self.segments(pos.index)[pos.walked - 1].price

    def time_at(self, pos: Position) -> int:
        """Market time in ms: the candle's open, the end of the last walked segment, or the end
        of the series."""
        if pos.index >= len(self.candles):
            return int(self.candles.ts[-1]) + self.timeframe_ms
        if pos.walked == 0:
            return int(self.candles.ts[pos.index])
        return self.segments(pos.index)[pos.walked - 1].ts

    @property
    def price(self) -> float:
        return self.price_at(self.position)

    @property
    def now_ms(self) -> int:
        return self.time_at(self.position)

    def step(self) -> Step | None:
        """Walk the next segment; None when the series has ended."""
        index, walked = self.position.index, self.position.walked
        if index >= len(self.candles):
            return None
        segment = self.segments(index)[walked]
        if walked < 2:
            self.position = Position(index, walked + 1)
            return Step(segment, None)
        self.position = Position(index + 1, 0)
        has_next = index + 1 < len(self.candles)
        return Step(segment, float(self.candles.open[index + 1]) if has_next else None)

    # ---- views ------------------------------------------------------------------------------
    def visible(self, pos: Position) -> Rows:
        """Every candle up to the position, the current one partial, as columns."""
        c = self.candles
        end = min(pos.index, len(c))
        cols: Rows = {
            "ts": c.ts[:end],
            "open": c.open[:end],
            "high": c.high[:end],
            "low": c.low[:end],
            "close": c.close[:end],
            "volume": c.volume[:end],
        }
        if pos.index >= len(c):
            return cols
        i, walked = pos.index, pos.walked
        walk = [float(c.open[i])] + [s.price for s in self.segments(i)[:walked]]
        partial = {
            "ts": int(c.ts[i]),
            "open": walk[0],
            "high": max(walk),
            "low": min(walk),
            "close": walk[-1],
            "volume": float(c.volume[i]) * walked / 3,
        }
        return {key: np.append(values, partial[key]) for key, values in cols.items()}

    def klines(
        self, pos: Position, interval_ms: int, start: int | None, end: int | None, limit: int
    ) -> list[list[object]]:
        """Binance kline rows: startTime/endTime filter open times; without a start, the latest."""
        rows = aggregate(self.visible(pos), interval_ms)
        ts = rows["ts"]
        lo = 0 if start is None else int(np.searchsorted(ts, start, side="left"))
        hi = len(ts) if end is None else int(np.searchsorted(ts, end, side="right"))
        lo, hi = (lo, min(hi, lo + limit)) if start is not None else (max(lo, hi - limit), hi)
        return [
            [
                int(ts[k]),
                fmt(rows["open"][k]),
                fmt(rows["high"][k]),
                fmt(rows["low"][k]),
                fmt(rows["close"][k]),
                fmt(rows["volume"][k]),
                int(ts[k]) + interval_ms - 1,
                fmt(rows["volume"][k] * rows["close"][k]),
                0,
                "0.00000000",
                "0.00000000",
                "0",
            ]
            for k in range(lo, hi)
        ]

    def day_stats(self, pos: Position) -> dict[str, float | int]:
        """The rolling 24 hours up to the position (Binance's 24hr ticker numbers)."""
        cols = self.visible(pos)
        now = self.time_at(pos)
        first = int(np.searchsorted(cols["ts"], now - DAY_MS, side="left"))
        first = min(first, len(cols["ts"]) - 1)
        volume = float(np.sum(cols["volume"][first:]))
        quote_volume = float(np.sum(cols["volume"][first:] * cols["close"][first:]))
        return {
            "open": float(cols["open"][first]),
            "high": float(np.max(cols["high"][first:])),
            "low": float(np.min(cols["low"][first:])),
            "prev_close": float(cols["close"][first - 1]) if first else float(cols["open"][0]),
            "last": self.price_at(pos),
            "volume": volume,
            "quote_volume": quote_volume,
            "open_time": int(cols["ts"][first]),
            "close_time": now,
        }

    def trades(
        self, pos: Position, start: int | None, limit: int
    ) -> list[tuple[int, float, float, int, bool]]:
        """Synthetic public trades, one per walked segment end, oldest first: from ``start``
        forwards, else the latest ``limit``. Rows: (id, price, qty, time, is_buyer_maker)."""
        end = min(pos.index, len(self.candles))
        walked = pos.walked if pos.index < len(self.candles) else 0
        if start is None:
            first = max(0, end - limit // 3 - 1)
        else:
            first = max(0, int(np.searchsorted(self.candles.ts, start, side="right")) - 1)
        out = []
        for index in range(first, min(end + 1, len(self.candles))):
            qty = float(self.candles.volume[index]) / 3
            segments = self.segments(index)[: 3 if index < end else walked]
            for k, segment in enumerate(segments):
                if start is None or segment.ts >= start:
                    falling = segment.direction is Direction.FALLING
                    out.append((index * 3 + k, segment.price, qty, segment.ts, falling))
        return out[:limit] if start is not None else out[-limit:]


def book_around(last: float, tick_size: Decimal) -> tuple[float, float]:
    """The book the exchange shows: bid and ask one tick apart around the last price."""
    tick = float(tick_size) or 0.01
    bid = math.floor(last / tick + 1e-9) * tick
    return bid, bid + tick


def aggregate(cols: Rows, interval_ms: int) -> Rows:
    """Candles of a longer interval (a multiple of the series' own) from the columns."""
    ts = cols["ts"].astype(np.int64)
    if len(ts) == 0:
        return cols
    buckets = ts - ts % interval_ms
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    if len(starts) == len(ts):
        return {**cols, "ts": buckets}
    ends = np.r_[starts[1:], len(ts)] - 1
    return {
        "ts": buckets[starts],
        "open": cols["open"][starts],
        "high": np.maximum.reduceat(cols["high"], starts),
        "low": np.minimum.reduceat(cols["low"], starts),
        "close": cols["close"][ends],
        "volume": np.add.reduceat(cols["volume"], starts),
    }
