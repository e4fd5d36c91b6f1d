"""The API figures of issue #5: ``GET /runs/{id}`` (run status) on the real stack.

``tradebot api`` (uvicorn, one worker process) serves a throwaway PostgreSQL database seeded
with a month of a 100-line grid's rows; Redis holds the rate-limit counters; the bearer token
is an RS256 JWT checked against a JWKS served on loopback. ``benchmarks.loadgen`` drives it
from a separate process.

Figures:

- open loop at 500 requests/s for 10 s after a 3 s warm-up: p50, p90, p99, max (from the
  moment each request was due), achieved requests/s, errors; target p99 < 25 ms;
- closed loop: 16 connections back to back, the most the one process answers per second, and
  what a request costs: CPU of the API process and of PostgreSQL per answered request (one
  core divided by the API's cost is the ceiling of one process), beside a 404's cost (what
  uvicorn, the middleware and the per-IP limit take before any route runs);
- 500 requests/s of a client over the *default* per-client limit (600 per 60 s, spent just
  before): how fast a 429 comes back.

The throughput runs raise ``API_RATE_LIMIT_PER_IP`` and ``API_RATE_LIMIT_PER_CLIENT`` so the
limiter does not throttle them; the limiter still runs (two Redis round trips a request).
Everything shares the machine: the load average is printed beside the figures.
Run alone with ``python -m benchmarks.bench_api``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from tests.api.fakes import issuer_server

from benchmarks.api_stack import (
    SUBJECT,
    Seeded,
    Server,
    api_server,
    backends_cpu,
    cpu_seconds,
    seed,
    throwaway_database,
)
from benchmarks.measure import Figure
from tradebot.config import Settings

RATE = 500
SECONDS = 10
WARMUP_S = 3
CLOSED_CONNECTIONS = 16
P99_TARGET_MS = 25.0
UNTHROTTLED = {"API_RATE_LIMIT_PER_IP": 10_000_000, "API_RATE_LIMIT_PER_CLIENT": 10_000_000}
DEFAULT_LIMITS = {
    name: int(Settings.model_fields[name].default)
    for name in ("API_RATE_LIMIT_PER_CLIENT", "API_RATE_WINDOW_S")
}
WINDOW_S = DEFAULT_LIMITS["API_RATE_WINDOW_S"]


def load(url: str, token: str, *args: str) -> dict[str, Any]:
    """Run ``benchmarks.loadgen`` in its own process; its JSON summary."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.loadgen", url, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "LOADGEN_TOKEN": token},
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr.strip()[-300:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@dataclass(frozen=True, slots=True)
class Measured:
    """A load generator's summary and what the server and the database spent on it."""

    result: dict[str, Any]
    server_cpu_s: float
    database_cpu_s: float
    load_average: float

    def ms(self, name: str) -> float:
        return round(float(self.result["ms"][name]), 2)

    def per_request_ms(self, cpu_s: float) -> float:
        return round(1000 * cpu_s / max(1, self.result["answered_with_warmup"]), 2)

    @property
    def statuses(self) -> dict[str, int]:
        statuses: dict[str, int] = self.result["statuses"]
        return statuses


def measured(server: Server, database: str, url: str, token: str, *args: str) -> Measured:
    load_average = os.getloadavg()[0]
    server_before, database_before = cpu_seconds(server.pid), backends_cpu(database)
    result = load(url, token, *args)
    server_after, database_after = cpu_seconds(server.pid), backends_cpu(database)
    server_cpu = (
        server_after - server_before
        if server_before is not None and server_after is not None
        else math.nan
    )
    database_cpu = sum(cpu - database_before.get(pid, 0.0) for pid, cpu in database_after.items())
    return Measured(result, server_cpu, database_cpu, load_average)


def _open_loop(server: Server, seeded: Seeded, url: str, token: str) -> list[Figure]:
    run = measured(
        server, seeded.database, url, token, "--rate", str(RATE), "--seconds", str(SECONDS),
        "--warmup", str(WARMUP_S),
    )  # fmt: skip
    label = f"GET /runs/{{id}} at {RATE} req/s (open loop, {SECONDS} s)"
    lag = run.result["lag_ms"]["p99"]
    note = f"load average {run.load_average:.1f}; waited for a free connection: p99 {lag:.0f} ms"
    return [
        Figure(f"{label}: p50", run.ms("p50"), "ms"),
        Figure(f"{label}: p90", run.ms("p90"), "ms"),
        Figure(f"{label}: p99", run.ms("p99"), "ms", P99_TARGET_MS, note=note),
        Figure(f"{label}: max", run.ms("max"), "ms"),
        Figure(f"{label}: achieved", round(run.result["rate"], 1), "req/s", RATE * 0.99, True),
        Figure(f"{label}: errors", run.result["unexpected"], "requests", 0, note=str(run.statuses)),
    ]


def _closed_loop(server: Server, seeded: Seeded, url: str, token: str) -> list[Figure]:
    run = measured(
        server, seeded.database, url, token, "--mode", "closed",
        "--connections", str(CLOSED_CONNECTIONS), "--seconds", str(SECONDS),
        "--warmup", str(WARMUP_S),
    )  # fmt: skip
    label = f"GET /runs/{{id}}, {CLOSED_CONNECTIONS} connections back to back"
    errors = f", errors {run.result['unexpected']}" if run.result["unexpected"] else ""
    server_ms = run.per_request_ms(run.server_cpu_s)
    ceiling = f"one core / this: {1000 / server_ms:,.0f} req/s" if server_ms > 0 else ""
    generator_ms = run.per_request_ms(run.result["generator_cpu_s"])
    return [
        Figure(
            f"{label}: throughput",
            round(run.result["rate"], 1),
            "req/s",
            note=f"p50 {run.ms('p50')} ms, p99 {run.ms('p99')} ms, "
            f"load average {run.load_average:.1f}{errors}",
        ),
        Figure("  API process CPU per request", server_ms, "ms", note=ceiling),
        Figure(
            "  PostgreSQL CPU per request",
            run.per_request_ms(run.database_cpu_s),
            "ms",
            note="server processes still connected at the end (not those closed during it)",
        ),
        Figure("  load generator CPU per request", generator_ms, "ms"),
    ]


def _floor(server: Server, seeded: Seeded, token: str) -> list[Figure]:
    """What a request costs the API before any route runs: a 404 behind the same middleware."""
    run = measured(
        server, seeded.database, f"{server.url}/no-such-route", token, "--mode", "closed",
        "--connections", str(CLOSED_CONNECTIONS), "--seconds", "5", "--warmup", "1",
        "--expect", "404",
    )  # fmt: skip
    return [
        Figure(
            "  API process CPU per request, a 404 (uvicorn, middleware, per-IP limit)",
            run.per_request_ms(run.server_cpu_s),
            "ms",
            note=f"{run.result['rate']:,.0f} req/s",
        )
    ]


def _throttled(server: Server, seeded: Seeded, url: str, token: str) -> list[Figure]:
    """The client's budget spent first (a closed loop), then 500 requests/s of 429s.

    The budget is per wall-clock window: a window about to end is waited out, so the figure
    is taken inside one window (the note counts any 200 that a new window let through).
    """
    left = WINDOW_S - time.time() % WINDOW_S
    if left < 25:
        time.sleep(left + 0.1)
    load(url, token, "--mode", "closed", "--connections", "16", "--seconds", "6", "--warmup", "0")
    run = measured(
        server, seeded.database, url, token, "--rate", str(RATE), "--seconds", str(SECONDS),
        "--warmup", "0", "--expect", "429",
    )  # fmt: skip
    statuses = run.statuses
    return [
        Figure(
            f"GET /runs/{{id}} at {RATE} req/s over the default per-client limit: p99",
            run.ms("p99"),
            "ms",
            P99_TARGET_MS,
            note=f"429: {statuses.get('429', 0)}, 200: {statuses.get('200', 0)}, "
            f"p50 {run.ms('p50')} ms, API {run.per_request_ms(run.server_cpu_s)} ms cpu "
            f"per answer, load average {run.load_average:.1f}",
        )
    ]


def _stack(seeded: Seeded, issuer_url: str, audience: str, token: str) -> list[Figure]:
    path = f"/runs/{seeded.run_id}"
    figures: list[Figure] = []
    with api_server(seeded.database_url, issuer_url, audience, **UNTHROTTLED) as server:
        figures += _open_loop(server, seeded, server.url + path, token)
        figures += _closed_loop(server, seeded, server.url + path, token)
        figures += _floor(server, seeded, token)
    limits = {"API_RATE_LIMIT_PER_IP": UNTHROTTLED["API_RATE_LIMIT_PER_IP"], **DEFAULT_LIMITS}
    with api_server(seeded.database_url, issuer_url, audience, **limits) as server:
        figures += _throttled(server, seeded, server.url + path, token)
    return figures


def api_figures() -> list[Figure]:
    """Every API figure, on a database created, seeded and dropped here."""
    with throwaway_database() as database, issuer_server() as issuer:
        seeded = seed(database)
        token = issuer.token(SUBJECT)  # ten minutes of validity: the whole benchmark
        return _stack(seeded, issuer.url, issuer.audience, token)


def main() -> int:
    from rich.console import Console

    from benchmarks.run import _table

    Console(width=140).print(_table(api_figures()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
