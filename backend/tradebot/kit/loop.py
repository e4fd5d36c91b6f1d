"""The event loop of our long-lived processes: uvloop where it is installed.

A worker drives a thousand runs on one loop. In a burst of fills every woken run's decision
waits its turn in the loop's ready queue, behind the others' stream parses, transactions and
requests, and uvloop's callbacks, futures and sockets cost a fraction of asyncio's own (the
live bench's news-to-decision p99 is its figure). Where uvloop is not installed (Windows), it
is asyncio's loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - not on the platforms we deploy to
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on ``new_event_loop``."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)
