"""Retries with exponential backoff and full jitter, honouring a server's Retry-After.

Only for requests that are safe to send again (reads, market data). An order POST is never
resent blindly: after a transient error its state is unknown and must be queried first.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
E = TypeVar("E", bound=Exception)
"""What ``translate`` makes of a caught exception: an error that says whether it is
``retryable`` (``VenueError``, ``TradeBotError``), and may carry the server's
``retry_after``."""


@dataclass(frozen=True, slots=True)
class Backoff:
    attempts: int = 5
    base_s: float = 0.5
    cap_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (attempt counts from 1)."""
        jittered = self.rng.uniform(0, min(self.cap_s, self.base_s * 2 ** (attempt - 1)))
        return max(jittered, retry_after or 0.0)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    translate: Callable[[Exception], E],
    backoff: Backoff,
    *,
    catch: tuple[type[Exception], ...],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_retry: Callable[[E, float], None] | None = None,
) -> T:
    """``await call()``; on an exception of a ``catch`` class that ``translate`` calls
    retryable, wait and try again, up to ``backoff.attempts`` in all. Raises the translated
    error when it is not retryable or the attempts are spent (the original chained); any other
    exception passes through untouched."""
    attempt = 1
    while True:
        try:
            return await call()
        except catch as exc:
            error = translate(exc)
            if not getattr(error, "retryable", False) or attempt >= backoff.attempts:
                if error is exc:
                    raise
                raise error from exc
            delay = backoff.delay(attempt, getattr(error, "retry_after", None))
            if on_retry is not None:
                on_retry(error, delay)
            await sleep(delay)
            attempt += 1
