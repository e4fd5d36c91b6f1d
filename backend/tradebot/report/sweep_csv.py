"""The sweep's CSV: every valid combination, ranked, with every figure (fixed column order)."""

from __future__ import annotations

import csv
import io

from tradebot.research.sweep import SweepResult


def sweep_csv_text(result: SweepResult, metric: str) -> str:
    rows = result.ranked_rows(metric)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: f"{v:.12g}" if isinstance(v, float) else v for k, v in row.items()})
    return out.getvalue()
