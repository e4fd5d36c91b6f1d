"""What a started process holds is out of the collector's sight; what it makes later is not;
a worker's full collections wait for their hour."""

from __future__ import annotations

import asyncio
import gc

from tradebot.kit.heap import keep_heap, settle_heap


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_a_settled_heap_leaves_later_garbage_to_the_collector():
    try:
        before = gc.get_freeze_count()
        settle_heap()
        assert gc.get_freeze_count() > before
        _Node()
        assert gc.collect() >= 1  # a cycle made after is still collected
    finally:
        gc.unfreeze()


async def test_full_collections_come_on_the_keepers_clock_only():
    thresholds = gc.get_threshold()
    collections = gc.get_stats()[2]["collections"]
    keeper = asyncio.create_task(keep_heap(every_s=0.05))
    try:
        await asyncio.sleep(0)
        assert gc.get_threshold()[2] > 10**6  # never on its own
        _Node()
        await asyncio.sleep(0.2)
        assert gc.get_stats()[2]["collections"] > collections  # the keeper's
    finally:
        keeper.cancel()
        await asyncio.wait({keeper})
    assert gc.get_threshold() == thresholds  # given back when the worker stops
