"""A process that trades has every kernel its runs call compiled before the first run: a paper
day of buys and sells through the live run loop, after ``warm_engine``, compiles nothing more
(a compile in the middle of trading held a worker's thousand runs for up to 2.5 s).

In a process of its own: this one's kernels may have been compiled by other tests already."""

from __future__ import annotations

import json
import os
import subprocess
import sys

_PAPER_DAY_AFTER_WARMING = """
import asyncio, json, sys
from tradebot.candles.io import bundled, load_candles
from tradebot.config import load_settings
from tradebot.engine import core
from tradebot.engine.plan import build_plan
from tradebot.engine.types import GridConfig
from tradebot.engine.warm import warm_engine
from tradebot.runs.paper_replay import run_paper_replay

def compiled():
    kernels = {name: k for name, k in vars(core).items() if hasattr(k, "signatures")}
    return {name: sorted(map(str, k.signatures)) for name, k in kernels.items()}

if sys.argv[2] == "warm":
    warm_engine()
warmed = compiled()
candles = load_candles(bundled()).first_days(1)
plan = build_plan(GridConfig(lower=95_000, upper=98_500, lines=16, investment=3_000))
settings = load_settings(RUN_ID="warm", MAX_RUN_LOSS_USD=1e9, MAX_GLOBAL_DRAWDOWN_USD=1e9)
replay = asyncio.run(run_paper_replay(plan, candles, settings, database_url=sys.argv[1]))
result = replay.result
print(json.dumps({
    "status": replay.outcome.status,
    "buys": sum(f.side.value == "buy" and f.line >= 0 for f in result.fills),
    "sells": sum(f.side.value == "sell" for f in result.fills),
    "warmed": warmed,
    "after": compiled(),
}))
"""


def _paper_day(sqlite_url: str, warm: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _PAPER_DAY_AFTER_WARMING, sqlite_url, warm],
        capture_output=True,
        text=True,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
        timeout=300,
        check=True,
    )
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def test_a_paper_day_after_warming_compiles_no_kernel(sqlite_url):
    day = _paper_day(sqlite_url, "warm")

    assert day["status"] == "finished"
    assert day["buys"]
    assert day["sells"]
    assert day["after"] == day["warmed"]


def test_without_warming_the_same_day_compiles_its_kernels_as_it_trades(sqlite_url):
    day = _paper_day(sqlite_url, "cold")

    warmed, after = day["warmed"], day["after"]
    assert isinstance(warmed, dict)
    assert isinstance(after, dict)
    grew = {name for name, signatures in after.items() if signatures != warmed[name]}
    assert {"apply_buy_fill", "apply_sell_fill", "cost_below"} <= grew
