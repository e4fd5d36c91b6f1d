"""Prices as the run loop's ticks: a direction from the previous price, and the minute marks.

Every live source of prices (a REST poll, an exchange stream, the fallback between them) makes
its ticks here, so a run cannot tell which source a tick came from.
"""

from __future__ import annotations

from tradebot.engine.walk import Direction
from tradebot.runtime.ports import Tick

MINUTE_MS = 60_000


class TickMaker:
    """Turns (time, price) observations of one market into ``Tick``s."""

    def __init__(self) -> None:
        self._last_price: float | None = None
        self._last_minute = -1
        self._marked_minute = -1

    def tick(self, ts: int, price: float) -> Tick:
        previous, self._last_price = self._last_price, price
        direction = None
        if previous is not None and price != previous:
            direction = Direction.RISING if price > previous else Direction.FALLING
        return Tick(ts, price, direction, closes_candle=self._closes_minute(ts))

    def _closes_minute(self, ts: int) -> bool:
        """Whether this tick marks a minute's close: a tick stamped on the minute's last
        millisecond (replays and the simulator), else the first tick after an unmarked one."""
        minute = ts // MINUTE_MS
        seen, self._last_minute = self._last_minute, minute
        if ts % MINUTE_MS == MINUTE_MS - 1:
            closes = minute > self._marked_minute
            self._marked_minute = max(self._marked_minute, minute)
            return closes
        if seen < minute and seen > self._marked_minute:
            self._marked_minute = seen
            return True
        return False
