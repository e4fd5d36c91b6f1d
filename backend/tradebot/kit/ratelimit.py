"""Fixed-window request counters in Redis, shared by every API process.

A key (``ip:1.2.3.4``, ``client:c-...``) may make ``limit`` requests per window; the next one
is refused with the seconds left in the window (the ``Retry-After`` of the 429).

A window's count only grows, so once a key is over its limit this process refuses the key's
next requests in that window without asking Redis again: a flood costs Redis nothing more.

Redis down, unreachable or silent never takes the API with it: a count that does not come
within ``REDIS_TIMEOUT_S`` lets the request through, and Redis is left alone for
``OUTAGE_PAUSE_S`` before it is asked again, so requests do not each wait out a dead server.
One warning per outage, one line when it is back.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tradebot.errors import TradeBotError
from tradebot.kit.cache import ExpiringCache

log = logging.getLogger(__name__)
REFUSALS_KEPT = 10_000
REDIS_TIMEOUT_S: Final = 0.25
"""A count takes about a millisecond; a quarter second means Redis is not answering."""
OUTAGE_PAUSE_S: Final = 5.0


class TooManyRequestsError(TradeBotError):
    """Too many requests; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RequestLimiter:
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        window_s: int,
        *,
        timeout_s: float = REDIS_TIMEOUT_S,
        pause_s: float = OUTAGE_PAUSE_S,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._window_s = window_s
        self._timeout_s = timeout_s
        self._pause_s = pause_s
        self._over: ExpiringCache[str, bool] = ExpiringCache(REFUSALS_KEPT)
        """Counters known to be over their limit, until their window ends."""
        self._down = False
        self._retry_at = 0.0
        """While Redis is down: the monotonic time it is asked again (until then, no limit)."""

    async def hit(self, key: str, limit: int, what: str) -> None:
        """Count one request of ``key``; over ``limit`` in this window: ``TooManyRequestsError``."""
        now = time.time()
        window = int(now // self._window_s)
        counter = f"{self._prefix}:ratelimit:{key}:{window}"
        retry_after = max(1, math.ceil((window + 1) * self._window_s - now))
        if self._over.get(counter) is None:
            count = await self._count(counter)
            if count is None or count <= limit:
                return
            self._over.put(counter, True, (window + 1) * self._window_s - now)
        raise TooManyRequestsError(
            f"{what}: more than {limit} requests in {self._window_s} s", retry_after
        )

    async def _count(self, counter: str) -> int | None:
        """The counter after this request; ``None`` when Redis cannot say (let it through)."""
        if self._down and time.monotonic() < self._retry_at:
            return None
        try:
            async with asyncio.timeout(self._timeout_s):
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.incr(counter)
                    pipe.expire(counter, self._window_s + 1)
                    count, _ = await pipe.execute()
        except (RedisError, OSError) as exc:  # TimeoutError is an OSError
            if not self._down:
                log.warning(
                    "rate limiter unavailable, requests let through (asked again every %g s): %s",
                    self._pause_s,
                    type(exc).__name__ if isinstance(exc, TimeoutError) else exc,
                )
            self._down, self._retry_at = True, time.monotonic() + self._pause_s
            return None
        if self._down:
            self._down = False
            log.warning("rate limiter available again")
        return int(count)
