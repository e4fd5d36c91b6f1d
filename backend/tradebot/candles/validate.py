"""Candle checks: unsorted, duplicate, impossible OHLC are errors; gaps are listed, never filled."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tradebot.candles.model import Candles
from tradebot.errors import CandleDataError


@dataclass(frozen=True, slots=True)
class Gap:
    """Candles missing between two present ones: ``after_ts`` and ``before_ts`` are open times."""

    after_ts: int
    before_ts: int
    missing: int


@dataclass(slots=True)
class ValidationReport:
    rows: int
    timeframe_ms: int
    unsorted_at: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    impossible: list[int] = field(default_factory=list)
    off_grid: list[int] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    @property
    def fatal(self) -> str | None:
        """The first problem that makes the series unusable, as one line, or None."""
        if self.rows == 0:
            return "no candles"
        if self.unsorted_at:
            first, count = self.unsorted_at[0] + 1, len(self.unsorted_at)
            return f"timestamps not ascending at row {first} ({count} places)"
        if self.duplicates:
            return f"duplicate timestamps: {len(self.duplicates)} rows, first {self.duplicates[0]}"
        if self.impossible:
            first, count = self.impossible[0] + 1, len(self.impossible)
            return (
                f"impossible OHLC at row {first} ({count} rows): "
                "need 0 < low <= open, close <= high"
            )
        return None

    @property
    def missing_candles(self) -> int:
        return sum(g.missing for g in self.gaps)


def infer_timeframe(ts: np.ndarray) -> int:
    """The most common step between consecutive open times."""
    steps = np.diff(ts)
    steps = steps[steps > 0]
    if steps.size == 0:
        return 60_000
    values, counts = np.unique(steps, return_counts=True)
    return int(values[np.argmax(counts)])


def validate(candles: Candles) -> ValidationReport:
    ts = candles.ts
    report = ValidationReport(rows=len(candles), timeframe_ms=candles.timeframe_ms)
    if len(candles) == 0:
        return report
    steps = np.diff(ts)
    report.unsorted_at = np.flatnonzero(steps < 0).tolist()
    report.duplicates = ts[1:][steps == 0].tolist()
    o, h, lo, c = candles.open, candles.high, candles.low, candles.close
    with np.errstate(invalid="ignore"):
        bad = ~((lo > 0) & (lo <= np.minimum(o, c)) & (np.maximum(o, c) <= h) & np.isfinite(h))
    report.impossible = np.flatnonzero(bad).tolist()
    tf = candles.timeframe_ms
    report.off_grid = np.flatnonzero(ts % tf != ts[0] % tf).tolist()
    for idx in np.flatnonzero(steps > tf):
        missing = int(steps[idx] // tf) - 1
        if missing > 0:
            report.gaps.append(Gap(int(ts[idx]), int(ts[idx + 1]), missing))
    return report


def require_valid(candles: Candles) -> ValidationReport:
    """Validate and raise CandleDataError (one line naming the file) on a fatal problem."""
    report = validate(candles)
    problem = report.fatal
    if problem:
        raise CandleDataError(f"{candles.source or 'candles'}: {problem}")
    return report
