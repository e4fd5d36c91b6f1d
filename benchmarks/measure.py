"""How figures are taken: a subprocess's wall time and peak memory, best-of timing, and a
figure beside its target."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured number and the target it is held to (None: reported, not judged)."""

    name: str
    value: float | None
    unit: str
    target: float | None = None
    higher_is_better: bool = False
    note: str = ""

    @property
    def status(self) -> str:
        if self.value is None:
            return "n/a"
        if self.target is None:
            return ""
        met = self.value >= self.target if self.higher_is_better else self.value <= self.target
        return "ok" if met else "MISSED"

    def shown(self, number: float | None) -> str:
        if number is None:
            return "—"
        if self.unit == "candles/s":
            return f"{number / 1e6:,.1f} M candles/s"
        if self.unit == "s":
            return f"{number:.3f} s"
        if self.unit == "MB":
            return f"{number:,.0f} MB"
        return f"{number:g} {self.unit}"

    @property
    def target_text(self) -> str:
        if self.target is None:
            return ""
        return ("≥ " if self.higher_is_better else "≤ ") + self.shown(self.target)


@dataclass(frozen=True, slots=True)
class Run:
    """A finished subprocess: wall seconds, CPU seconds (user + system, all threads), peak
    resident memory and how it ended. On a busy machine CPU time is the steadier figure."""

    seconds: float
    cpu_seconds: float
    peak_mb: float
    returncode: int
    stderr: str


def tradebot_command() -> list[str]:
    """The installed console script beside this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("tradebot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tradebot.cli.main"]


def run_process(args: Sequence[str], env: Mapping[str, str] | None = None) -> Run:
    """Run ``args`` to the end through ``benchmarks.peak``, which reports its wall time and
    its own peak memory (not this big process's)."""
    launcher = [sys.executable, str(Path(__file__).with_name("peak.py")), *args]
    done = subprocess.run(
        launcher, capture_output=True, text=True, env=dict(env or os.environ), check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmarks.peak failed: {done.stderr.strip()[-300:]}")
    report = json.loads(done.stdout)
    return Run(
        report["seconds"],
        report["cpu_seconds"],
        report["peak_kb"] / 1024,
        report["returncode"],
        report["stderr"],
    )


def best_run(args: Sequence[str], env: Mapping[str, str], repeat: int) -> Run:
    """The fastest of ``repeat`` runs; a failing run stops the figure with its error."""
    runs = []
    for _ in range(repeat):
        run = run_process(args, env)
        if run.returncode != 0:
            last = run.stderr.strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"{' '.join(args[:2])} exited {run.returncode}: {last[0]}")
        runs.append(run)
    return min(runs, key=lambda r: r.seconds)


def best_seconds(action: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` calls of ``action`` (in this process)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def environment(numba_cache: Path) -> dict[str, str]:
    """This environment with numba's cache in ``numba_cache``: empty for a cold first run (it
    compiles and fills it), then warm for the runs after it."""
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = str(numba_cache)
    return env
