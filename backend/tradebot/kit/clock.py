"""Wall-clock time for audit columns (``created_at``): always aware, always UTC.

Market times (orders, fills, snapshots) are integer ms from a run's own clock, not this.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
