"""A long-lived process's heap, kept out of the garbage collector's way.

Python's full (generation 2) collection walks every tracked object. The imports alone leave some
340,000 (ccxt's exchange classes most of them), and each live run adds its exchange clients
(thousands of objects each): in the live bench, a worker of 1,000 runs spent 0.8-1.4 s in each
full collection, one every 40-50 s, and every run waited (the tail of its event-to-decision
latency). So:

- what exists once a process has started (modules, classes, settings) lives as long as the
  process: it is frozen out of the collector's sight (``settle_heap``);
- a worker leaves its old objects to a full collection once an hour (``keep_heap``) instead of
  whenever the young ones pile up: cycles that die among them wait that long to be freed.
  Young objects are collected as before.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Final

from tradebot.observability.logs import get_logger

log = get_logger(__name__)
FULL_EVERY_S: Final = 3600.0
_NEVER: Final = 1_000_000_000
"""A threshold the count of generation-1 collections never reaches."""


def settle_heap() -> None:
    """Freeze what exists now: later collections walk only newer objects. Not collected
    first: that walk would add its 100 ms to a restart, for the little garbage imports leave."""
    gc.freeze()


async def keep_heap(every_s: float = FULL_EVERY_S) -> None:
    """Hold full collections to one every ``every_s`` (logged with its pause), until
    cancelled."""
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], _NEVER)
    try:
        while True:
            await asyncio.sleep(every_s)
            started = time.perf_counter()
            freed = gc.collect()
            pause_ms = round((time.perf_counter() - started) * 1000, 1)
            log.info("heap_collected", freed=freed, pause_ms=pause_ms)
    finally:
        gc.set_threshold(*thresholds)  # the worker stopped (a process that goes on: tests)
