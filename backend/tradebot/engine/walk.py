"""The spec's price walk through one candle, as data, and the replay clock's timestamps.

``core.walk_candle`` is the compiled form of the same walk; the paper replay steps through these
points one segment at a time so the live run loop can react between segments, as it would live.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Direction(IntEnum):
    FALLING = -1
    RISING = 1


@dataclass(frozen=True, slots=True)
class Segment:
    """One straight piece of the walk: where it ends, which way it moves, and when it ends."""

    index: int
    direction: Direction
    price: float
    ts: int


def segment_end_ms(candle_ts: int, timeframe_ms: int, segment: int) -> int:
    """Deterministic time at which segment 0, 1 or 2 of a candle ends (3 = after the close)."""
    if segment >= 2:
        return candle_ts + timeframe_ms - 1
    return candle_ts + (segment + 1) * (timeframe_ms // 3)


def candle_segments(
    ts: int, timeframe_ms: int, o: float, h: float, lo: float, c: float
) -> tuple[Segment, Segment, Segment]:
    """open-low-high-close when close >= open, else open-high-low-close (three segments)."""
    if c >= o:
        points = ((Direction.FALLING, lo), (Direction.RISING, h), (Direction.FALLING, c))
    else:
        points = ((Direction.RISING, h), (Direction.FALLING, lo), (Direction.RISING, c))
    first, second, third = (
        Segment(k, direction, price, segment_end_ms(ts, timeframe_ms, k))
        for k, (direction, price) in enumerate(points)
    )
    return first, second, third
