"""A held event loop is logged with what held it: its length, the garbage collector's share and
the call that held it; a loop that keeps turning logs nothing."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator

from structlog.testing import capture_logs

from tradebot.kit.stall import LoopWatch


@contextlib.asynccontextmanager
async def watched(watch: LoopWatch) -> AsyncIterator[None]:
    task = asyncio.create_task(watch.run())
    await asyncio.sleep(0.05)  # its thread looking
    try:
        yield
        await asyncio.sleep(0.05)  # the beat after a stall
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def hold_the_loop(seconds: float) -> None:
    time.sleep(seconds)  # a synchronous call, as a compile or a large parse


async def test_a_loop_held_by_a_call_is_logged_with_that_call() -> None:
    watch = LoopWatch(stall_s=0.1)
    with capture_logs() as logs:
        async with watched(watch):
            hold_the_loop(0.3)

    [stall] = [entry for entry in logs if entry["event"] == "loop_stalled"]
    assert 250 <= stall["held_ms"] < 2_000
    assert stall["gc_ms"] < 50
    assert any(frame.endswith(" hold_the_loop") for frame in stall["stack"]), stall["stack"]
    assert watch.stalls == 1
    assert watch.longest_s >= 0.25
    watch.clear()  # a bench's window counts from here
    assert (watch.stalls, watch.longest_s) == (0, 0.0)


async def test_a_collection_during_a_stall_is_counted_as_the_collectors() -> None:
    garbage = [[i] for i in range(300_000)]
    with capture_logs() as logs:
        async with watched(LoopWatch(stall_s=0.01)):
            started = time.perf_counter()
            while time.perf_counter() - started < 0.05:
                gc.collect()
    del garbage

    stalls = [entry for entry in logs if entry["event"] == "loop_stalled"]
    assert sum(stall["gc_ms"] for stall in stalls) >= 30


async def test_a_loop_that_turns_logs_nothing() -> None:
    watch = LoopWatch(stall_s=0.2)  # no stall on a loaded machine either
    with capture_logs() as logs:
        async with watched(watch):
            for _ in range(20):
                await asyncio.sleep(0.01)

    assert [entry for entry in logs if entry["event"] == "loop_stalled"] == []
    assert watch.stalls == 0
