"""The event loop watched from a thread: a stall is logged with what held the loop.

A worker's thousand runs share one event loop: anything that holds it (a synchronous call, a
garbage collection, the parse of a large answer) delays every run's next decision by as long,
and the runs' own latency figures show only that they waited, not for what. The loop beats
every ``BEAT_S``; a thread looks as often and, once the beat is older than the threshold, takes
the loop thread's stack (the call holding it). When the loop beats again the stall is logged
(``loop_stalled``) with its length, the time the garbage collector took during it, and that
stack's innermost frames.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time
import traceback
from typing import Any, Final

from tradebot.observability.logs import get_logger
from tradebot.observability.metrics import LOOP_STALL_SECONDS

log = get_logger(__name__)
BEAT_S: Final = 0.01
STALL_S: Final = 0.05
"""A loop held this long is logged: the decision target is 50 ms, and one such stall spends it
for every run that waits."""
FRAMES: Final = 12


class LoopWatch:
    """``run`` beats on the loop and starts the watching thread; cancelled, both stop."""

    def __init__(self, stall_s: float = STALL_S) -> None:
        self.stall_s = stall_s
        self.stalls = 0
        self.longest_s = 0.0
        self._beat = time.perf_counter()
        self._loop_thread = threading.get_ident()
        self._stack: list[str] | None = None
        self._gc_s = 0.0
        self._gc_started = 0.0
        self._stop = threading.Event()

    async def run(self) -> None:
        self._loop_thread = threading.get_ident()
        watcher = threading.Thread(target=self._watch, name="loop-watch", daemon=True)
        gc.callbacks.append(self._on_gc)
        watcher.start()
        try:
            while True:
                self._beat = time.perf_counter()
                await asyncio.sleep(BEAT_S)
                self._check()
        finally:
            self._stop.set()
            gc.callbacks.remove(self._on_gc)

    def _check(self) -> None:
        held = time.perf_counter() - self._beat - BEAT_S
        stack, self._stack = self._stack, None
        gc_s, self._gc_s = self._gc_s, 0.0
        if held < self.stall_s:
            return
        self.stalls += 1
        self.longest_s = max(self.longest_s, held)
        LOOP_STALL_SECONDS.observe(held)
        log.warning(
            "loop_stalled",
            held_ms=round(held * 1000, 1),
            gc_ms=round(gc_s * 1000, 1),
            stack=stack or [],
        )

    def clear(self) -> None:
        """Count the stalls from now on (a bench's measured window)."""
        self.stalls, self.longest_s = 0, 0.0

    def _watch(self) -> None:
        while not self._stop.wait(BEAT_S):
            if self._stack is None and time.perf_counter() - self._beat > self.stall_s:
                frame = sys._current_frames().get(self._loop_thread)
                if frame is not None:
                    self._stack = _innermost(frame)

    def _on_gc(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self._gc_s += time.perf_counter() - self._gc_started


def _innermost(frame: Any) -> list[str]:
    """The stack's innermost frames, as ``file:line function`` (innermost last), each file's
    path from its package on (``numba/core/caching.py``), not the machine's."""
    # The longest root first: a venv's site-packages inside a project's directory.
    roots = sorted({root.rstrip("/") for root in sys.path if root.rstrip("/")}, key=len)[::-1]
    summary = traceback.extract_stack(frame)[-FRAMES:]
    return [f"{_relative(entry.filename, roots)}:{entry.lineno} {entry.name}" for entry in summary]


def _relative(filename: str, roots: list[str]) -> str:
    for root in roots:
        if filename.startswith(root + "/"):
            return filename[len(root) + 1 :]
    return filename
