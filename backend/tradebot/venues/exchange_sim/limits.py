"""Binance's limits per IP. Request weight: fixed windows aligned on the clock, 429 with
Retry-After past the limit, and a 418 ban for a client that keeps sending after its 429s. New
WebSocket connections: 300 attempts in any 5 minutes; the attempt past them is refused (429 at
the handshake) and counts too, so a client that keeps trying stays refused.

Every key behind one IP shares that IP's limits: one noisy tenant spends them for all.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from tradebot.venues.exchange_sim.config import LimitsConfig
from tradebot.venues.exchange_sim.errors import banned, too_many_connections, too_much_weight


@dataclass(slots=True)
class _Window:
    start: float
    used: int = 0
    rejected: int = 0


class IpLimiter:
    def __init__(self, config: LimitsConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self._windows: dict[str, _Window] = {}
        self._bans: dict[str, float] = {}
        self._attempts: dict[str, deque[float]] = {}
        """Each IP's WebSocket connection attempts within the last window, oldest first."""
        self.answered_429 = 0
        self.answered_418 = 0
        self.refused_connections = 0
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

    def connect(self, ip: str) -> None:
        """Count a new WebSocket connection; raises the 429 that refuses it past the limit."""
        cfg, now = self.config, self.clock()
        attempts = self._attempts.setdefault(ip, deque())
        while attempts and attempts[0] <= now - cfg.connection_window_s:
            attempts.popleft()
        attempts.append(now)
        if len(attempts) > cfg.connections_per_window:
            self.refused_connections += 1
            oldest = attempts[-1 - cfg.connections_per_window]
            retry_after = max(1, math.ceil(oldest + cfg.connection_window_s - now))
            raise too_many_connections(
                cfg.connections_per_window, cfg.connection_window_s, retry_after
            )

    def used(self, ip: str) -> int:
        return self._window(ip, self.clock()).used

    def state(self) -> dict[str, object]:
        now = self.clock()
        return {
            "used_weight": {ip: self._window(ip, now).used for ip in self._windows},
            "banned": {ip: until for ip, until in self._bans.items() if until > now},
            "answered_429": self.answered_429,
            "answered_418": self.answered_418,
            "refused_connections": self.refused_connections,
            "charged": self.charged,
        }

    def reset(self) -> None:
        """Forget windows, bans and connection attempts (tests start each scenario clean)."""
        self._windows.clear()
        self._bans.clear()
        self._attempts.clear()
