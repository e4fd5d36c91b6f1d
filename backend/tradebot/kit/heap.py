"""A long-lived process's heap, set aside from the garbage collector once it has started.

Python's full collection walks every tracked object. The imports alone leave some 340,000
(ccxt's exchange classes most of them), and walking them took 70-140 ms on a 2-core machine:
every run of a worker waited that long whenever one came, the tail of its event-to-decision
latency. What exists when a process has started (modules, classes, settings) lives as long as
the process, so it is frozen out of the collector's sight; objects made later are collected as
before.
"""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Freeze what exists now: later collections walk only newer objects. Not collected
    first: that walk would add its 100 ms to a restart, for the little garbage imports leave."""
    gc.freeze()
