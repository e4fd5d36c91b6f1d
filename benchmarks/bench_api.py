"""The API figure of issue #5: ``GET /runs/{id}`` (run status) on the real stack.

``tradebot api`` (uvicorn, one worker process) serves a throwaway PostgreSQL database seeded
with a month of a 100-line grid's rows; Redis holds the rate-limit counters; the bearer token
is an RS256 JWT checked against a JWKS served on loopback. ``benchmarks.loadgen`` drives it
from a separate process.

Figures:

- open loop at 500 requests/s for 10 s after a 3 s warm-up: p50, p90, p99, max (from the
  moment each request was due), achieved requests/s, errors; target p99 < 25 ms;
- closed loop: 16 connections back to back, the most the one process answers per second;
- the same 500 requests/s with the *default* per-client limit (600 per 60 s): after 600
  answers the rest are 429, and how fast a 429 comes back.

The throughput runs raise ``API_RATE_LIMIT_PER_IP`` and ``API_RATE_LIMIT_PER_CLIENT`` so the
limiter does not throttle them; the limiter still runs (two Redis round trips a request).
Run alone with ``python -m benchmarks.bench_api``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from tests.api.fakes import issuer_server

from benchmarks.api_stack import (
    SUBJECT,
    Seeded,
    Server,
    api_server,
    cpu_seconds,
    seed,
    throwaway_database,
)
from benchmarks.measure import Figure

RATE = 500
SECONDS = 10
WARMUP_S = 3
CLOSED_CONNECTIONS = 16
P99_TARGET_MS = 25.0
UNTHROTTLED = {"API_RATE_LIMIT_PER_IP": 10_000_000, "API_RATE_LIMIT_PER_CLIENT": 10_000_000}
DEFAULT_CLIENT_LIMIT = 600  # Settings.API_RATE_LIMIT_PER_CLIENT


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


def _measured(server: Server, url: str, token: str, *args: str) -> tuple[dict[str, Any], float]:
    """The generator's summary and the server's CPU use (cores) over the whole load."""
    before = cpu_seconds(server.pid)
    result = load(url, token, *args)
    after = cpu_seconds(server.pid)
    busy = (after - before) if before is not None and after is not None else float("nan")
    return result, busy / (result["seconds"] + WARMUP_S)


def _ms(result: dict[str, Any], name: str) -> float:
    return round(float(result["ms"][name]), 2)


def _open_loop(server: Server, url: str, token: str) -> list[Figure]:
    load_before = os.getloadavg()[0]
    result, cores = _measured(
        server, url, token, "--rate", str(RATE), "--seconds", str(SECONDS),
        "--warmup", str(WARMUP_S),
    )  # fmt: skip
    label = f"GET /runs/{{id}} at {RATE} req/s (open loop, {SECONDS} s)"
    note = (
        f"server {cores:.0%} of a core, generator {result['generator_cpu_s']:.1f} s cpu, "
        f"send lag p99 {result['lag_ms']['p99']:.1f} ms, load average {load_before:.1f}"
    )
    return [
        Figure(f"{label}: p50", _ms(result, "p50"), "ms"),
        Figure(f"{label}: p90", _ms(result, "p90"), "ms"),
        Figure(f"{label}: p99", _ms(result, "p99"), "ms", P99_TARGET_MS, note=note),
        Figure(f"{label}: max", _ms(result, "max"), "ms"),
        Figure(f"{label}: achieved", round(result["rate"], 1), "req/s", RATE * 0.99, True),
        Figure(
            f"{label}: errors", result["unexpected"], "requests", 0, note=str(result["statuses"])
        ),
    ]


def _closed_loop(server: Server, url: str, token: str) -> list[Figure]:
    result, cores = _measured(
        server, url, token, "--mode", "closed", "--connections", str(CLOSED_CONNECTIONS),
        "--seconds", str(SECONDS), "--warmup", str(WARMUP_S),
    )  # fmt: skip
    label = f"GET /runs/{{id}} max throughput ({CLOSED_CONNECTIONS} connections)"
    note = f"p50 {_ms(result, 'p50')} ms, p99 {_ms(result, 'p99')} ms, server {cores:.0%} of a core"
    errors = f", errors {result['unexpected']}" if result["unexpected"] else ""
    return [Figure(label, round(result["rate"], 1), "req/s", note=note + errors)]


def _throttled(url: str, token: str) -> list[Figure]:
    result = load(
        url, token, "--rate", str(RATE), "--seconds", str(SECONDS), "--warmup", "0",
        "--expect", "429",
    )  # fmt: skip
    statuses = result["statuses"]
    label = f"GET /runs/{{id}} at {RATE} req/s, default per-client limit"
    return [
        Figure(
            f"{label}: p99 (mostly 429)",
            _ms(result, "p99"),
            "ms",
            P99_TARGET_MS,
            note=f"200: {statuses.get('200', 0)}, 429: {statuses.get('429', 0)}, "
            f"p50 {_ms(result, 'p50')} ms",
        )
    ]


def _stack(seeded: Seeded, issuer_url: str, audience: str, token: str) -> list[Figure]:
    url = f"/runs/{seeded.run_id}"
    figures: list[Figure] = []
    with api_server(seeded.database_url, issuer_url, audience, **UNTHROTTLED) as server:
        figures += _open_loop(server, server.url + url, token)
        figures += _closed_loop(server, server.url + url, token)
    limits = {"API_RATE_LIMIT_PER_IP": UNTHROTTLED["API_RATE_LIMIT_PER_IP"]}
    with api_server(seeded.database_url, issuer_url, audience, **limits) as server:
        figures += _throttled(server.url + url, token)
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
