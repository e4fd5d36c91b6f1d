"""Fetch a candle range from an exchange, page by page, through a local Parquet cache.

The exchange is any ``OhlcvSource`` (the ccxt one lives in ``venues.ccxt_market_data``; this
module never imports ccxt). The cache keeps one Parquet file per exchange, pair and timeframe
plus the list of time ranges already fetched, so a range asked for again costs no request, and
new pages are merged in. Gaps the exchange has are listed by validation, never filled.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from tradebot.candles.io import load_candles, save_parquet
from tradebot.candles.model import Candles, timeframe_ms
from tradebot.candles.validate import ValidationReport, validate
from tradebot.errors import BadInputError, TradeBotError

Progress = Callable[[int, int], None]
"""Called with (candles covered so far, candles in the range)."""


class CandleFetchError(TradeBotError):
    """The exchange could not give the candles (after retries), or refused the request."""


class OhlcvSource(Protocol):
    """A source of OHLCV pages: rows ``[open time ms, open, high, low, close, volume]``."""

    @property
    def name(self) -> str:
        """Where the candles come from, as a file-name-safe cache key (e.g. ``binance``)."""
        ...

    @property
    def page_limit(self) -> int:
        """The most candles one page may hold."""
        ...

    async def check(self, pair: str, timeframe: str) -> None:
        """Raise BadInputError for a pair or timeframe the exchange does not have."""
        ...

    async def fetch_page(
        self, pair: str, timeframe: str, since_ms: int, limit: int
    ) -> Sequence[Sequence[float]]:
        """Closed candles opening at or after ``since_ms``, oldest first, at most ``limit``."""
        ...


@dataclass(frozen=True, slots=True)
class FetchResult:
    candles: Candles
    report: ValidationReport
    pages: int
    """Pages requested from the exchange (0: all from the cache)."""
    cache_path: Path | None


Interval = tuple[int, int]


def _subtract(want: Interval, have: list[Interval]) -> list[Interval]:
    """Parts of ``want`` not covered by the sorted, merged ``have``."""
    start, end = want
    missing: list[Interval] = []
    for lo, hi in have:
        if hi <= start or lo >= end:
            continue
        if lo > start:
            missing.append((start, lo))
        start = max(start, hi)
    if start < end:
        missing.append((start, end))
    return missing


def _slots(span: Interval, tf: int) -> int:
    """How many candles of ``tf`` open in the span."""
    return -(-(span[1] - span[0]) // tf)


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


class CandleCache:
    """``{root}/{source}/{BASE-QUOTE}_{timeframe}.parquet`` and ``.coverage.json`` beside it
    (the ranges fetched; written after the data, so a crash between costs a refetch only)."""

    def __init__(self, root: Path, source: str, pair: str, timeframe: str) -> None:
        stem = f"{pair.replace('/', '-').upper()}_{timeframe}"
        self.path = Path(root) / source / f"{stem}.parquet"
        self.coverage_path = self.path.with_name(f"{stem}.coverage.json")
        self.timeframe_ms = timeframe_ms(timeframe)

    def load(self) -> tuple[Candles | None, list[Interval]]:
        if not self.path.is_file() or not self.coverage_path.is_file():
            return None, []
        try:
            coverage = [(int(a), int(b)) for a, b in json.loads(self.coverage_path.read_text())]
        except (ValueError, TypeError):
            return None, []  # a damaged index: fetch again rather than trust it
        return load_candles(self.path, self.timeframe_ms), _merge(coverage)

    def save(self, candles: Candles, coverage: list[Interval]) -> None:
        save_parquet(candles, self.path)
        tmp = self.coverage_path.with_name(self.coverage_path.name + ".tmp")
        tmp.write_text(json.dumps([list(i) for i in _merge(coverage)]))
        tmp.replace(self.coverage_path)


def _columns(rows: Sequence[Sequence[float]], tf: int, source: str) -> Candles:
    data = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
    return Candles(
        ts=data[:, 0].astype(np.int64),
        open=data[:, 1].copy(),
        high=data[:, 2].copy(),
        low=data[:, 3].copy(),
        close=data[:, 4].copy(),
        volume=data[:, 5].copy(),
        timeframe_ms=tf,
        source=source,
    )


def _combine(parts: list[Candles], tf: int, source: str) -> Candles:
    """Sorted by time; where two parts hold the same candle, the later part's wins."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return _columns([], tf, source)
    cols = {
        name: np.concatenate([getattr(p, name) for p in parts])
        for name in ("ts", "open", "high", "low", "close", "volume")
    }
    # reverse, keep each timestamp's first (= latest part's) row, then sort ascending
    order = np.arange(len(cols["ts"]))[::-1]
    _, first = np.unique(cols["ts"][order], return_index=True)
    keep = order[first]
    return Candles(**{k: v[keep] for k, v in cols.items()}, timeframe_ms=tf, source=source)


async def _fetch_range(
    source: OhlcvSource, pair: str, timeframe: str, span: Interval, report: Callable[[int], None]
) -> tuple[list[Sequence[float]], int, int]:
    """Page through ``span``: (rows inside it, pages asked, end of the confirmed coverage).

    A page is confirmed up to its last candle, and up to the span's end when the exchange
    already has candles after it (whatever is missing before that is a gap). A short or empty
    page means the exchange has nothing more yet."""
    start, end = span
    tf = timeframe_ms(timeframe)
    rows: list[Sequence[float]] = []
    pages, since, covered = 0, start, start
    while since < end:
        page = await source.fetch_page(pair, timeframe, since, source.page_limit)
        pages += 1
        inside = [r for r in page if since <= int(r[0]) < end]
        rows.extend(inside)
        if inside:
            covered = int(inside[-1][0]) + tf
        if any(int(r[0]) >= end for r in page):
            covered = end
        report(covered)
        if not inside or len(page) < source.page_limit:
            break
        since = covered
    return rows, pages, covered


async def fetch_candles(
    source: OhlcvSource,
    pair: str,
    timeframe: str,
    since_ms: int,
    until_ms: int,
    *,
    cache_root: Path | None = None,
    progress: Progress | None = None,
) -> FetchResult:
    """Candles opening in [since_ms, until_ms), from the cache where it has them."""
    tf = timeframe_ms(timeframe)
    start, end = since_ms - since_ms % tf, until_ms
    if end <= start:
        raise BadInputError("--until must be after --since")
    await source.check(pair, timeframe)
    cache = CandleCache(cache_root, source.name, pair, timeframe) if cache_root else None
    cached, coverage = cache.load() if cache else (None, [])
    missing = _subtract((start, end), coverage)
    total = _slots((start, end), tf)
    done = total - sum(_slots(span, tf) for span in missing)
    notify = progress or (lambda _done, _total: None)
    notify(done, total)
    parts = [cached] if cached is not None else []
    pages, added = 0, []
    for span in missing:

        def report(covered: int, span_start: int = span[0], before: int = done) -> None:
            notify(min(total, before + (covered - span_start) // tf), total)

        rows, asked, covered = await _fetch_range(source, pair, timeframe, span, report)
        pages += asked
        done += _slots(span, tf)
        parts.append(_columns(rows, tf, source.name))
        if covered > span[0]:
            added.append((span[0], covered))
    notify(total, total)
    merged = _combine(parts, tf, f"{source.name} {pair} {timeframe}")
    if cache is not None and added:
        cache.save(merged, coverage + added)
    window = merged.window(start, end)
    return FetchResult(window, validate(window), pages, cache.path if cache else None)
