"""Fixed-window request counters in Redis, shared by every API process.

A key (``ip:1.2.3.4``, ``client:c-...``) may make ``limit`` requests per window; the next one
is refused with the seconds left in the window (the ``Retry-After`` of the 429).

A window's count only grows, so once a key is over its limit this process refuses the key's
next requests in that window without asking Redis again: a flood costs Redis nothing more.
"""

from __future__ import annotations

import math
import time

from redis.asyncio import Redis

from tradebot.errors import TradeBotError
from tradebot.kit.cache import ExpiringCache

REFUSALS_KEPT = 10_000


class TooManyRequestsError(TradeBotError):
    """Too many requests; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RequestLimiter:
    def __init__(self, redis: Redis, prefix: str, window_s: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self._window_s = window_s
        self._over: ExpiringCache[str, bool] = ExpiringCache(REFUSALS_KEPT)
        """Counters known to be over their limit, until their window ends."""

    async def hit(self, key: str, limit: int, what: str) -> None:
        """Count one request of ``key``; over ``limit`` in this window: ``TooManyRequestsError``."""
        now = time.time()
        window = int(now // self._window_s)
        counter = f"{self._prefix}:ratelimit:{key}:{window}"
        retry_after = max(1, math.ceil((window + 1) * self._window_s - now))
        if self._over.get(counter) is None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(counter)
                pipe.expire(counter, self._window_s + 1)
                count, _ = await pipe.execute()
            if int(count) <= limit:
                return
            self._over.put(counter, True, (window + 1) * self._window_s - now)
        raise TooManyRequestsError(
            f"{what}: more than {limit} requests in {self._window_s} s", retry_after
        )
