"""Request weight per IP, as Binance counts it: fixed windows aligned on the clock, 429 with
Retry-After past the limit, and a 418 ban for a client that keeps sending after its 429s.

Every key behind one IP shares that IP's weight: one noisy tenant spends it for all.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from tradebot.venues.exchange_sim.config import LimitsConfig
from tradebot.venues.exchange_sim.errors import banned, too_much_weight


@dataclass(slots=True)
class _Window:
    start: float
    used: int = 0
    rejected: int = 0


class WeightLimiter:
    def __init__(self, config: LimitsConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self._windows: dict[str, _Window] = {}
        self._bans: dict[str, float] = {}
        self.answered_429 = 0
        self.answered_418 = 0
        self.charged = 0
        """Weight charged since the start, every IP (what a benchmark divides by the time)."""

    def _window(self, ip: str, now: float) -> _Window:
        start = now - now % self.config.window_s
        window = self._windows.get(ip)
        if window is None or window.start != start:
            window = self._windows[ip] = _Window(start)
        return window

    def charge(self, ip: str, weight: int) -> int:
        """Add a request's weight; returns the weight used in the window, or raises the 429/418
        answer (with Retry-After)."""
        cfg, now = self.config, self.clock()
        until = self._bans.get(ip, 0.0)
        if now < until:
            self.answered_418 += 1
            raise banned(int(until * 1000), math.ceil(until - now))
        window = self._window(ip, now)
        if window.used + weight <= cfg.weight_limit:
            window.used += weight
            self.charged += weight
            return window.used
        window.rejected += 1
        if window.rejected > cfg.ban_after_429s:
            self._bans[ip] = now + cfg.ban_s
            self.answered_418 += 1
            raise banned(int((now + cfg.ban_s) * 1000), math.ceil(cfg.ban_s))
        self.answered_429 += 1
        retry_after = max(1, math.ceil(window.start + cfg.window_s - now))
        raise too_much_weight(cfg.weight_limit, cfg.window_s, retry_after)

    def used(self, ip: str) -> int:
        return self._window(ip, self.clock()).used

    def state(self) -> dict[str, object]:
        now = self.clock()
        return {
            "used_weight": {ip: self._window(ip, now).used for ip in self._windows},
            "banned": {ip: until for ip, until in self._bans.items() if until > now},
            "answered_429": self.answered_429,
            "answered_418": self.answered_418,
            "charged": self.charged,
        }

    def reset(self) -> None:
        """Forget windows and bans (tests start each scenario clean)."""
        self._windows.clear()
        self._bans.clear()
