"""The soak tells the restarts the exchange held (a 429's Retry-After holds the whole IP) from
the others: each restart's figure counts in the held-free figure only if no hold fell in it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tools.soak.logs import Recovery, _measure, exchange_holds


def _line(at: float, event: str, **fields: object) -> str:
    stamp = datetime.fromtimestamp(at, UTC).isoformat()
    return json.dumps({"event": event, "timestamp": stamp, **fields})


def test_a_restart_a_429_held_counts_only_in_the_whole_figure(tmp_path: Path):
    log = tmp_path / "run-0.1.log"
    lines = [
        _line(1_000.0, "exchange_rate_limited", status=429, retry_after_s=2.0, blocked_s=2.0),
        _line(1_001.0, "run_ticking", run_id="r"),
        "Traceback (most recent call last):",  # not JSON: skipped
    ]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    recovery = Recovery(held=exchange_holds([log]))
    assert recovery.held == [(1_000.0, 1_002.0)]
    _measure(recovery, "r", "held", 999.0, 1_003.5, restarted=999.0)  # the hold fell in it
    _measure(recovery, "r", "after", 1_002.5, 1_004.0, restarted=1_002.5)  # after the hold
    _measure(recovery, "r", "before", 990.0, 999.5, restarted=990.0)  # before it
    assert recovery.restart_ms == [4_500.0, 1_500.0, 9_500.0]
    assert recovery.restart_unheld_ms == [1_500.0, 9_500.0]
    # less the hold: 4.5 s less its 2 s; the others met none
    assert recovery.restart_ours_ms == [2_500.0, 1_500.0, 9_500.0]


def test_holds_logged_by_several_processes_count_once_within_a_restart(tmp_path: Path):
    logs = []
    for name, at in (("run-0.1", 1_000.0), ("worker-1.0", 1_001.0), ("run-2.3", 1_010.0)):
        log = tmp_path / f"{name}.log"
        log.write_text(_line(at, "exchange_rate_limited", status=429, blocked_s=2.0) + "\n")
        logs.append(log)
    recovery = Recovery(held=exchange_holds(logs))
    # 1,000-1,002 and 1,001-1,003 overlap (3 s held); 1,010-1,012 is cut at the tick, 1,011
    _measure(recovery, "r", "restart", 999.0, 1_011.0, restarted=999.0)
    assert recovery.restart_ms == [12_000.0]
    assert recovery.restart_ours_ms == [8_000.0]
