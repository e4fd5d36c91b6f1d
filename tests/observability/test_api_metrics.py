"""The API's ``/metrics``: requests counted by route template, never by the raw path."""

from __future__ import annotations

from collections.abc import Callable

import httpx


async def test_requests_are_counted_by_route_template_not_by_run_id(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers = login()
    run_ids = ["r-metrics-one", "r-metrics-two"]
    for run_id in run_ids:
        assert (await api.get(f"/runs/{run_id}", headers=headers)).status_code == 404

    scraped = await api.get("/metrics")

    assert scraped.status_code == 200
    requests = [
        line
        for line in scraped.text.splitlines()
        if line.startswith("http_requests_total{") and 'handler="/runs/{run_id}"' in line
    ]
    assert requests, scraped.text[:2000]
    assert not any(run_id in scraped.text for run_id in run_ids)
