"""``make bench``: every speed figure of issues #2, #5 and #11 beside its target.

Writes a deterministic synthetic year of 1-minute candles (Parquet, CSV.gz, CSV) to a temporary
folder, then measures. A missed target is printed as MISSED; it never fails the build, and a
step that fails is one row saying so: the other steps still run.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks import (
    bench_api,
    bench_limiter,
    bench_live,
    bench_portal,
    bench_workers,
    figures,
)
from benchmarks.data import write_year
from benchmarks.measure import Figure

LEGEND = (
    "cold: the first run with an empty numba cache (it compiles and fills the cache, as on a "
    "fresh install); warm: best of 3 runs that load the compiled code from that cache. "
    "Whole-process figures run the installed tradebot command in a subprocess; cpu is its "
    "user + system time over all threads (steadier than wall time when other work shares the "
    "machine), peak its own maximum resident memory."
)


def _table(rows: list[Figure]) -> Table:
    table = Table(title="TradeBot benchmarks", title_justify="left")
    table.add_column("figure")
    table.add_column("measured", justify="right", no_wrap=True)
    table.add_column("target", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("note")
    for row in rows:
        status = {"ok": "[green]ok[/green]", "MISSED": "[bold red]MISSED[/bold red]"}.get(
            row.status, row.status
        )
        table.add_row(row.name, row.shown(row.value), row.target_text, status, row.note)
    return table


def main() -> int:
    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    cores = os.cpu_count() or 1
    console.print(
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{cores} cores, {platform.machine()}"
    )
    rows: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="tradebot-bench-") as scratch:
        work = Path(scratch)
        started = time.perf_counter()
        files = write_year(work / "data")
        console.print(
            f"synthetic year: {len(files.candles):,} candles written in "
            f"{time.perf_counter() - started:.1f} s"
        )
        setup = figures.Setup.around(files, work)
        steps: list[tuple[str, Callable[[], list[Figure]]]] = [
            ("compute", lambda: figures.compute(setup)),
            ("candle loading", lambda: figures.loads(setup)),
            ("backtest process", lambda: figures.backtest_process(setup)),
            ("sweep", lambda: figures.sweep_process(setup)),
            ("start-up", figures.startup),
            ("paper replay", lambda: figures.paper_replay(setup)),
            ("API (PostgreSQL, Redis, tradebot api)", bench_api.api_figures),
            ("paper bots per worker (PostgreSQL, Redis, simulator)", bench_workers.figures),
            ("fair rate limiter (Redis)", bench_limiter.figures),
            ("live runs by stream (PostgreSQL, Redis, simulator)", bench_live.figures),
            ("portal (the whole stack, Chromium)", bench_portal.figures),
        ]
        for name, step in steps:
            with console.status(f"measuring {name}"):
                try:
                    rows.extend(step())
                except Exception as exc:  # a step failed: say so and keep measuring
                    rows.append(Figure(f"{name}: failed ({exc})", None, ""))
    console.print(_table(rows))
    console.print(LEGEND)
    missed = [row.name for row in rows if row.status == "MISSED"]
    console.print(f"{len(missed)} target(s) MISSED" if missed else "every target met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
