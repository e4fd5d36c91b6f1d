"""The loop under every exchange stream: watch, hand the event on, and after an error wait and
watch again (ccxt.pro opens a new socket on the next watch after the old one failed)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tradebot.venues.retry import Backoff

T = TypeVar("T")
RECONNECT = Backoff(attempts=1_000_000, base_s=0.2, cap_s=10.0)


async def pump(
    watch: Callable[[], Awaitable[T]],
    on_event: Callable[[T], None],
    on_down: Callable[[Exception, float], None],
    backoff: Backoff = RECONNECT,
    connecting: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Forever (until cancelled): ``on_event`` for each event, ``on_down(error, retry_s)`` for
    each failure, then a backoff before watching again. ``connecting`` is awaited before the
    first watch and the first after each failure, the watches that open a socket (the IP's
    turn for a new connection: ``RateLimiter.connect``); its failure is the stream's."""
    attempt = 0
    connected = False
    while True:
        try:
            if not connected and connecting is not None:
                await connecting()
            connected = True
            event = await watch()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is None or task.cancelling():
                raise  # we are being stopped
            error: Exception = ConnectionError("stream closed")  # ccxt cancels its waiters
        except Exception as exc:  # ccxt's network errors, a closed socket, a bad frame
            error = exc
        else:
            attempt = 0
            on_event(event)
            continue
        connected = False
        attempt = min(attempt + 1, 30)
        delay = backoff.delay(attempt)
        on_down(error, delay)
        await asyncio.sleep(delay)
