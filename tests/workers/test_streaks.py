"""A worker's retry streaks stay bounded: a run that failed here and then went on elsewhere (or
ended) was kept for the worker's life."""

from __future__ import annotations

from tradebot.workers.state import Streaks


def test_a_streak_counts_failures_in_a_row_until_cleared():
    streaks = Streaks()
    assert [streaks.failed("a") for _ in range(3)] == [1, 2, 3]
    streaks.clear("a")
    assert streaks.failed("a") == 1


def test_only_the_newest_runs_are_kept_and_a_failing_run_stays_among_them():
    streaks = Streaks(kept=3)
    for run in ("a", "b", "c"):
        streaks.failed(run)
    assert streaks.failed("a") == 2  # failed again: now the newest
    streaks.failed("d")  # one too many: the oldest ("b") goes
    assert len(streaks) == 3
    assert streaks.failed("a") == 3
    assert streaks.failed("b") == 1  # forgotten: its backoff starts again
    for n in range(1_000):
        streaks.failed(f"run-{n}")
    assert len(streaks) == 3
