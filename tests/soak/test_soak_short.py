"""The short fault soak inside ``make test`` (``make soak`` runs the two-minute one): two
tenants trading live on the exchange simulator, one through a ``tradebot run`` process of its
own and one through the ``tradebot worker`` pool, for 20 seconds of exchange faults, stream
faults (stalls, disconnects, user events reordered, dropped, duplicated and delayed), SIGKILLs of
both kinds of process, a PostgreSQL and a Redis restart (private ones: the machine's are shared
with the other tests), on an exchange that fills orders in parts. Nothing may be ordered twice,
lost or leak between tenants."""

from __future__ import annotations

import pytest
from tools.soak.fault_soak import FaultSoak, SoakConfig


@pytest.mark.slow
def test_twenty_seconds_of_faults_duplicate_nothing_lose_nothing_and_keep_tenants_apart(
    tmp_path,
):
    report = FaultSoak(SoakConfig.short(log_dir=tmp_path, settle_timeout_s=30.0)).run()
    table = "\n".join(f"{name}: {value}" for name, value in report.rows())
    assert report.faults["postgres restart"] == report.faults["redis restart"] == 1, table
    assert report.faults["SIGKILL run"] >= 1, table
    assert report.faults["SIGKILL worker"] >= 1, table
    assert report.findings.orders_submitted > 0, table
    assert report.findings.filled_in_parts > 0, table  # PARTIALLY_FILLED reached the runs
    streams = [kind for kind in report.faults if kind.startswith("stream")]
    assert any(k.startswith("stream stall") for k in streams), table
    assert any(k.startswith("stream disconnect") for k in streams), table
    assert sum(report.stream_events_faulted.values()) > 0, table
    assert report.audited_statements, table  # the tenancy audit read the statement log
    assert report.findings.duplicate_orders == 0, table
    assert report.lost_fills == 0, table
    assert report.findings.phantom_fills == 0, table
    assert report.cross_tenant == [], table
    assert report.bans == 0, table
