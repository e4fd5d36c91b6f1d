"""SIGKILL a live run at random moments against the exchange simulator (20 trials; ``make
soak`` runs 100): no duplicate order, no lost or phantom fill, the grid intact, and in the end
the same fills as a run that never died."""

from __future__ import annotations

import pytest
from tools.soak.kill_trials import KillTrials

TRIALS = 20


@pytest.mark.slow
def test_twenty_sigkills_lose_nothing_and_duplicate_nothing(pg_url, master_key):
    report = KillTrials(pg_url, master_key, trials=TRIALS, seed=11).run()
    assert report.kills >= TRIALS - 2, report  # a trial may only miss by the replay ending
    assert report.duplicate_orders == 0
    assert report.lost_fills == 0
    assert report.phantom_fills == 0
    assert report.problems == []
    assert report.matches_backtest
