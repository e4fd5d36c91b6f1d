"""The fills CSV: fixed columns and number formats so two paper runs give identical bytes."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from tradebot.engine.types import Fill

HEADER = ("time_utc", "ts_ms", "side", "line", "kind", "price", "qty", "fee_quote", "notional")


def _iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def fills_csv_text(fills: Iterable[Fill]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for f in fills:
        writer.writerow(
            (
                _iso(f.ts),
                f.ts,
                f.side.value,
                f.line,
                "market" if f.is_market else "limit",
                f"{f.price:.10g}",
                f"{f.qty:.12g}",
                f"{f.fee:.12g}",
                f"{f.price * f.qty:.10g}",
            )
        )
    return out.getvalue()


def write_fills_csv(fills: Iterable[Fill], path: Path) -> Path:
    from tradebot.kit.files import write_atomic

    return write_atomic(path, fills_csv_text(fills))
