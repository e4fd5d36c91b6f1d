"""Latency of the runs a worker drives, per run and tick: a bounded sample and its percentiles.

A tick is stamped when the worker receives it from the exchange (or when news on the run's
user-data stream wakes the run with the latest price). Its decision is made when the run knows
what to send: its fills are recorded and its book compared with the grid's, and its orders are
about to go out (``runtime.ports.QuietFeed.decided``): the figure held to the target in ``make
bench``. It is done when the exchange has answered the orders it sent for the tick and their
writes ahead are made (the run says so, ``runtime.ports.Done``: a live run sends behind it and
may decide on its next news before; the writes it leaves behind, ``runtime.journal``, are not
waited for): reported beside it.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field


@dataclass(slots=True)
class LatencySample:
    """The last ``capacity`` latencies in milliseconds (older ones are dropped)."""

    capacity: int = 1_000_000
    values: array[float] = field(default_factory=lambda: array("d"))
    count: int = 0

    def add(self, ms: float) -> None:
        self.count += 1
        if len(self.values) >= self.capacity:
            del self.values[: self.capacity // 2]
        self.values.append(ms)

    def percentile(self, q: float) -> float:
        """The ``q``-quantile (0..1) by nearest rank; 0 when empty."""
        if not self.values:
            return 0.0
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def clear(self) -> None:
        del self.values[:]
        self.count = 0
