"""What a started process holds is out of the collector's sight; what it makes later is not."""

from __future__ import annotations

import gc

from tradebot.kit.heap import settle_heap


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
