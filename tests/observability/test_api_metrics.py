"""The API's ``/metrics``: requests counted by route template, never by the raw path.

Asked of a real ``tradebot api`` process: the instrumentator records for the first app of a
process (as in production, one app per process), which in a test process may be any test's.
"""

from __future__ import annotations

import httpx


def test_requests_are_counted_by_route_template_not_by_run_id(served_api: str) -> None:
    run_ids = ["r-metrics-one", "r-metrics-two"]
    for run_id in run_ids:
        assert httpx.get(f"{served_api}runs/{run_id}").status_code == 401

    scraped = httpx.get(f"{served_api}metrics")

    assert scraped.status_code == 200
    requests = [
        line
        for line in scraped.text.splitlines()
        if line.startswith("http_requests_total{") and 'handler="/runs/{run_id}"' in line
    ]
    assert requests, scraped.text[:2000]
    assert not any(run_id in scraped.text for run_id in run_ids)
