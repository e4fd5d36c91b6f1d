"""A paper replay killed with SIGKILL at a random moment resumes from the database and ends
exactly where an uninterrupted run ends: same fills, no duplicate orders."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tradebot.candles.io import bundled, load_candles
from tradebot.config import load_settings
from tradebot.engine.plan import build_plan
from tradebot.report.fills_csv import fills_csv_text
from tradebot.research.backtest import run_backtest

TRIALS = 3
# A dense grid over the first day of the bundled week: 36 fills to kill between.
GRID = {
    "GRID_LOWER": "94000",
    "GRID_UPPER": "99000",
    "GRID_STEPS": "21",
    "GRID_SPACING": "arithmetic",
    "GRID_INVESTMENT": "3000",
}


def _paper(run_id: str, env: dict[str, str], csv: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tradebot.cli.main",
            "paper",
            "--days",
            "1",
            "--exact",
            "--quiet",
            "--run-id",
            run_id,
            "--fills-csv",
            csv,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _stored_fills(db_path) -> int:
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=0.05) as db:
            return int(db.execute("select count(*) from bot_fills").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # not created yet, or locked by the victim's write


def _kill_after_fills(victim: subprocess.Popen[bytes], db_path, count: int) -> None:
    """SIGKILL the victim once it has stored ``count`` fills. It runs in slices of a few
    milliseconds and is stopped while its fills are counted: a replay that ran free finished
    the day between two looks of a poll starved on a loaded machine, before any kill."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        victim.send_signal(signal.SIGSTOP)
        if victim.poll() is not None:
            raise AssertionError("the replay ended before it was killed")
        if _stored_fills(db_path) >= count:
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            return
        victim.send_signal(signal.SIGCONT)
        time.sleep(0.002)
    raise AssertionError(f"the replay never stored {count} fills")


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_killed_paper_replay_resumes_to_the_same_fills(tmp_path, trial):
    env = {**os.environ, "DATA_DIR": str(tmp_path / "var"), **GRID}
    for name in ("RUN_ID", "PG_URL", "TP"):
        env.pop(name, None)
    csv = tmp_path / "fills.csv"
    run_id = f"kill-{trial}"
    victim = _paper(run_id, env, str(csv))
    # Kill once the run has stored a random number of the day's 36 fills (mid-replay,
    # mid-anything: it is stopped wherever its slice ended).
    _kill_after_fills(victim, tmp_path / "var" / "tradebot.db", random.Random(trial).randint(1, 30))
    assert not csv.exists()  # the victim never got to write its report
    survivor = _paper(run_id, env, str(csv))
    _, err = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, err.decode()

    candles = load_candles(bundled()).first_days(1)
    plan = build_plan(load_settings(**GRID).grid_config())
    expected = fills_csv_text(run_backtest(plan, candles).fills)
    assert csv.read_text() == expected

    db = sqlite3.connect(tmp_path / "var" / "tradebot.db")
    coids = db.execute(
        "select client_order_id from bot_orders where run_id = ?", (run_id,)
    ).fetchall()
    assert len(coids) == len(set(coids))
    per_line = db.execute(
        "select line, count(*) from bot_orders where run_id = ? and status = 'open' group by line "
        "having count(*) > 1",
        (run_id,),
    ).fetchall()
    assert per_line == []
    filled = db.execute(
        "select count(*) from bot_orders where run_id = ? and status = 'filled'", (run_id,)
    ).fetchone()[0]
    fills = db.execute("select count(*) from bot_fills where run_id = ?", (run_id,)).fetchone()[0]
    assert filled == fills
