"""The quiet bands of a shared feed's subscribers, kept in arrays: the runs a tick wakes are
found with one vectorised comparison, so a tick costs Python work only for those runs, not for
every run of the pair (``runtime.quiet``)."""

from __future__ import annotations

from typing import Generic, TypeVar

import numpy as np

from tradebot.runtime.ports import Tick
from tradebot.runtime.quiet import Quiet

T = TypeVar("T")
_INF = float("inf")


class Sleepers(Generic[T]):
    def __init__(self, capacity: int = 64) -> None:
        self._below = np.full(capacity, _INF)
        self._above = np.full(capacity, -_INF)
        self._close_after = np.zeros(capacity, dtype=np.int64)
        self._wake_at = np.zeros(capacity, dtype=np.int64)
        self._owners: list[T] = []
        self._slot: dict[T, int] = {}

    def __len__(self) -> int:
        return len(self._owners)

    def add(self, owner: T) -> None:
        """A new subscriber, awake (every tick wakes it until it says otherwise)."""
        slot = len(self._owners)
        if slot == len(self._below):
            self._grow()
        self._owners.append(owner)
        self._slot[owner] = slot
        self.wake(owner)

    def remove(self, owner: T) -> None:
        slot = self._slot.pop(owner)
        last = self._owners.pop()
        if last is not owner:  # the last subscriber takes the freed slot
            self._owners[slot] = last
            self._slot[last] = slot
            for array in (self._below, self._above, self._close_after, self._wake_at):
                array[slot] = array[len(self._owners)]

    def sleep(self, owner: T, quiet: Quiet) -> None:
        slot = self._slot.get(owner)
        if slot is not None:
            self._below[slot], self._above[slot] = quiet.below, quiet.above
            self._close_after[slot], self._wake_at[slot] = quiet.close_after, quiet.wake_at

    def wake(self, owner: T) -> None:
        slot = self._slot.get(owner)
        if slot is not None:
            self._below[slot], self._above[slot] = _INF, -_INF
            self._close_after[slot] = self._wake_at[slot] = 0

    def woken(self, tick: Tick) -> tuple[list[T], list[T]]:
        """The subscribers ``tick`` wakes, in subscription-slot order: those whose band it left
        (or awake), for whom it is news, and those asleep whose close it is, for whom it is
        not (a look by the clock is ``due``'s, between ticks)."""
        n = len(self._owners)
        moved = (tick.price <= self._below[:n]) | (tick.price >= self._above[:n])
        if not tick.closes_candle:
            return self._of(moved), []
        closing = (tick.ts >= self._close_after[:n]) & ~moved
        return self._of(moved), self._of(closing)

    def due(self, now_ms: int) -> list[T]:
        """The subscribers asleep whose time to look again has come, by the wall clock."""
        n = len(self._owners)
        asleep = self._below[:n] < _INF
        return self._of(asleep & (now_ms >= self._wake_at[:n]))

    def _of(self, mask: np.ndarray) -> list[T]:
        return [self._owners[i] for i in np.flatnonzero(mask)]

    def _grow(self) -> None:
        size = len(self._below)
        self._below = np.concatenate([self._below, np.full(size, _INF)])
        self._above = np.concatenate([self._above, np.full(size, -_INF)])
        self._close_after = np.concatenate([self._close_after, np.zeros(size, dtype=np.int64)])
        self._wake_at = np.concatenate([self._wake_at, np.zeros(size, dtype=np.int64)])
