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
_COLUMNS = (
    ("_below", _INF, np.float64),
    ("_above", -_INF, np.float64),
    ("_close_after", 0, np.int64),
    ("_wake_at", 0, np.int64),
    ("_line_below", -_INF, np.float64),
    ("_line_above", _INF, np.float64),
    ("_grace", 0, np.int64),
)
"""Each owner's quiet, one array per field (``Quiet``), with a new (awake) slot's value."""


class Sleepers(Generic[T]):
    _below: np.ndarray
    _above: np.ndarray
    _close_after: np.ndarray
    _wake_at: np.ndarray
    _line_below: np.ndarray
    _line_above: np.ndarray
    _grace: np.ndarray

    def __init__(self, capacity: int = 64) -> None:
        for name, fill, dtype in _COLUMNS:
            setattr(self, name, np.full(capacity, fill, dtype=dtype))
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
            for array in self._arrays():
                array[slot] = array[len(self._owners)]

    def sleep(self, owner: T, quiet: Quiet) -> None:
        slot = self._slot.get(owner)
        if slot is not None:
            self._below[slot], self._above[slot] = quiet.below, quiet.above
            self._close_after[slot], self._wake_at[slot] = quiet.close_after, quiet.wake_at
            self._line_below[slot], self._line_above[slot] = quiet.lines
            self._grace[slot] = quiet.grace_ms

    def wake(self, owner: T) -> None:
        slot = self._slot.get(owner)
        if slot is not None:
            for name, fill, _dtype in _COLUMNS:  # an awake slot's values, as a new one's
                getattr(self, name)[slot] = fill

    def woken(self, tick: Tick, now_ms: int) -> tuple[list[T], list[T], list[T]]:
        """The subscribers ``tick`` (arriving at ``now_ms`` on the wall clock) concerns, in
        subscription-slot order: those whose band it left (or awake), for whom it is news;
        those asleep whose close it is, for whom it is not (a look by the clock is ``due``'s,
        between ticks); and those asleep it passed a line of without waking them. Each of
        the last is woken once its grace is over, and noted again only by a price further
        past (a new low or high)."""
        n = len(self._owners)
        price = tick.price
        moved = (price <= self._below[:n]) | (price >= self._above[:n])
        below, above = self._line_below[:n], self._line_above[:n]
        passed = np.flatnonzero(~moved & ((price <= below) | (price >= above)))
        if len(passed):
            wake_at = self._wake_at[passed]
            self._wake_at[passed] = np.minimum(wake_at, now_ms + self._grace[passed])
            low = price <= below[passed]
            below[passed[low]] = np.nextafter(price, -_INF)
            above[passed[~low]] = np.nextafter(price, _INF)
        closing: list[T] = []
        if tick.closes_candle:
            closing = self._of((tick.ts >= self._close_after[:n]) & ~moved)
        return self._of(moved), closing, [self._owners[i] for i in passed]

    def due(self, now_ms: int) -> list[T]:
        """The subscribers asleep whose time to look again has come, by the wall clock."""
        n = len(self._owners)
        asleep = self._below[:n] < _INF
        return self._of(asleep & (now_ms >= self._wake_at[:n]))

    def _arrays(self) -> list[np.ndarray]:
        return [getattr(self, name) for name, _fill, _dtype in _COLUMNS]

    def _of(self, mask: np.ndarray) -> list[T]:
        return [self._owners[i] for i in np.flatnonzero(mask)]

    def _grow(self) -> None:
        for name, fill, _dtype in _COLUMNS:
            array = getattr(self, name)
            setattr(self, name, np.concatenate([array, np.full_like(array, fill)]))
