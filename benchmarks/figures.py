"""The figures of issues #2 and #11: compute, load, whole-process, sweep, start-up, paper replay.

Whole-process figures run the installed ``tradebot`` command in a subprocess. Each starts
cold (an empty numba cache: the first run compiles, as on a fresh install) and is then taken
warm (best of three, the compiled code loaded from that cache).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.data import YearFiles
from benchmarks.measure import (
    Figure,
    Run,
    best_run,
    best_seconds,
    environment,
    run_process,
    tradebot_command,
)
from tradebot.candles.io import load_candles
from tradebot.engine import core
from tradebot.engine.plan import build_plan
from tradebot.engine.types import GridConfig, Spacing
from tradebot.research.backtest import run_backtest

LINES = 100
INVESTMENT = 10_000.0
SWEEP_RANGES = (
    "--lower",
    "40000:49000:1000",
    "--upper",
    "71000:80000:1000",
    "--lines",
    "20:100:20",
    "--spacing",
    "arithmetic,geometric",
)
SWEEP_COMBINATIONS = 10 * 10 * 5 * 2


@dataclass(frozen=True, slots=True)
class Setup:
    """The year's files, a scratch folder, and the 100-line grid over the year's range."""

    files: YearFiles
    work: Path
    lower: float
    upper: float

    @classmethod
    def around(cls, files: YearFiles, work: Path) -> Setup:
        closes = files.candles.close
        lower, upper = np.quantile(closes, [0.02, 0.98]).round(-3)
        return cls(files, work, float(lower), float(upper))

    def backtest_args(self, candles: Path) -> list[str]:
        return [
            *tradebot_command(),
            "backtest",
            "--candles",
            str(candles),
            "--lower",
            f"{self.lower:g}",
            "--upper",
            f"{self.upper:g}",
            "--lines",
            str(LINES),
            "--investment",
            f"{INVESTMENT:g}",
            "--json",
            str(self.work / "backtest.json"),
            "--quiet",
        ]

    def sweep_args(self) -> list[str]:
        return [
            *tradebot_command(),
            "sweep",
            "--candles",
            str(self.files.parquet),
            *SWEEP_RANGES,
            "--investment",
            f"{INVESTMENT:g}",
            "--json",
            str(self.work / "sweep.json"),
            "--quiet",
        ]


def compute(setup: Setup) -> list[Figure]:
    """The compiled walk alone (issue #11), then the whole in-process backtest (issue #2)."""
    candles = setup.files.candles
    n = len(candles)
    plan = build_plan(
        GridConfig(setup.lower, setup.upper, LINES, INVESTMENT, Spacing.GEOMETRIC, 0.001, 0.001)
    )
    state = np.empty(core.STATE_SIZE)
    every = np.arange(n, dtype=np.int64)
    equity = np.empty(n)
    records = np.empty((n // 4, core.FILL_COLUMNS), dtype=np.int64)

    def walk() -> None:
        core.start_grid(state, plan.prices, plan.qtys, INVESTMENT, float(candles.open[0]), 0.001)
        core.walk(
            candles.open,
            candles.high,
            candles.low,
            candles.close,
            plan.prices,
            plan.qtys,
            0.001,
            0.001,
            0.0,
            state,
            records,
            every,
            equity,
        )

    walk()  # compiles on a cold cache; not timed
    walk_s = best_seconds(walk, 20)
    fills = int(state[core.ROUND_TRIPS] + state[core.BUY_FILLS])
    backtest_s = best_seconds(lambda: run_backtest(plan, candles), 5)
    return [
        Figure(
            "compute: core.walk, 100 lines, a year of 1m",
            n / walk_s,
            "candles/s",
            50e6,
            higher_is_better=True,
            note=f"{fills:,} fills",
        ),
        Figure(
            "run_backtest in process (walk+fills+figures)",
            n / backtest_s,
            "candles/s",
            1e6,
            higher_is_better=True,
        ),
    ]


def loads(setup: Setup) -> list[Figure]:
    """load_candles of the year, in this process (pyarrow already imported)."""
    files = setup.files
    figures = []
    for name, path, target in (
        ("Parquet", files.parquet, 0.2),
        ("CSV.gz", files.csv_gz, None),
        ("CSV", files.csv, None),
    ):
        load_candles(path)
        seconds = best_seconds(lambda p=path: load_candles(p), 3)  # type: ignore[misc]
        figures.append(Figure(f"load a year: {name}", seconds, "s", target))
    fresh = run_process(
        [
            sys.executable,
            "-c",
            "import sys\nfrom tradebot.candles.io import "
            f"load_candles\nload_candles({str(files.parquet)!r})",
        ]
    )
    figures.append(Figure("load a year: Parquet, fresh process + imports", fresh.seconds, "s"))
    return figures


def _note(run: Run, peak_mb: float | None = None) -> str:
    return f"cpu {run.cpu_seconds:.2f} s, peak {peak_mb or run.peak_mb:,.0f} MB"


def _cold_then_warm(args: list[str], cache: Path) -> tuple[Run, Run, float]:
    """The first run on an empty numba cache, the best of three after it, and their peak MB."""
    env = environment(cache)
    cold = best_run(args, env, 1)
    warm = [best_run(args, env, 1) for _ in range(3)]
    return cold, min(warm, key=lambda r: r.seconds), max(r.peak_mb for r in warm)


def backtest_process(setup: Setup) -> list[Figure]:
    """``tradebot backtest ... --json --quiet``: start-up, load, compute and the JSON write."""
    name = "tradebot backtest --json"
    cache = setup.work / "numba-backtest"
    cold, warm, peak = _cold_then_warm(setup.backtest_args(setup.files.parquet), cache)
    # The CSV.gz runs share the cache the Parquet runs filled: they must not compile again.
    csv = best_run(setup.backtest_args(setup.files.csv_gz), environment(cache), 3)
    return [
        Figure(f"{name}, Parquet year, cold", cold.seconds, "s", note=_note(cold)),
        Figure(f"{name}, Parquet year, warm", warm.seconds, "s", 1.0, note=_note(warm, peak)),
        Figure(f"{name}, CSV.gz year, warm", csv.seconds, "s", 1.0, note=_note(csv)),
    ]


def sweep_process(setup: Setup) -> list[Figure]:
    """``tradebot sweep`` of 1,000 combinations over the year: time and peak memory."""
    cold, warm, peak = _cold_then_warm(setup.sweep_args(), setup.work / "numba-sweep")
    label = f"tradebot sweep, {SWEEP_COMBINATIONS:,} combinations"
    return [
        Figure(f"{label}, cold", cold.seconds, "s", note=_note(cold)),
        Figure(f"{label}, warm", warm.seconds, "s", 5.0, note=_note(warm)),
        Figure(f"{label}, peak memory (warm)", peak, "MB", 500.0),
    ]


def startup() -> list[Figure]:
    run = best_run([*tradebot_command(), "--help"], dict(os.environ), 5)
    return [Figure("tradebot --help", run.seconds, "s", 0.3, note=_note(run))]


def paper_replay(setup: Setup) -> list[Figure]:
    """``tradebot paper --quiet`` (the bundled week through the live loop, SQLite), if present."""
    name = "tradebot paper, a week (live loop + SQLite)"
    command = tradebot_command()
    if run_process([*command, "paper", "--help"]).returncode != 0:
        return [Figure(f"{name} (not available yet)", None, "s", 5.0)]
    figures = []
    cache = setup.work / "numba-paper"
    for label, repeat in (("cold", 1), ("warm", 2)):
        runs = []
        for attempt in range(repeat):
            env = environment(cache)
            env["DATA_DIR"] = str(setup.work / f"paper-{label[:4]}-{attempt}")
            env.pop("PG_URL", None)  # the embedded SQLite default
            runs.append(best_run([*command, "paper", "--quiet"], env, 1))
        best = min(runs, key=lambda r: r.seconds)
        target = 5.0 if repeat > 1 else None
        figures.append(Figure(f"{name}, {label}", best.seconds, "s", target, note=_note(best)))
    return figures
