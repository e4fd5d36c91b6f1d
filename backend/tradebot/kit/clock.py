"""Wall-clock time for audit columns (``created_at``): always aware, always UTC; and the laps
of a start.

Market times (orders, fills, snapshots) are integer ms from a run's own clock, not this.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


class Laps:
    """How long each step of a start took, in ms: the line that says a run is live carries
    them, so a slow start says where its time went (the key check, the markets, the book)."""

    def __init__(self) -> None:
        self._at = time.perf_counter()
        self.ms: dict[str, float] = {}

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.ms[f"{step}_ms"] = round((now - self._at) * 1000, 1)
        self._at = now
