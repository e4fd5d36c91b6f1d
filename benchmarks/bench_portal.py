"""The customer portal's three targets (issue 16), measured on the real stack in Chromium.

The stack and the browser driver are the end-to-end test's own (``tests/portal/stack.py``): a
throwaway PostgreSQL database, Redis, the exchange simulator, the local OIDC provider,
``tradebot api`` and ``tradebot worker`` as processes and the portal built for them and served
by ``vite preview``; ``frontend/e2e/journey.mjs`` runs in its ``bench`` mode (sign in, plan,
keys, a paper bot, 50 bots).

- initial JavaScript: the entry script and its static imports, gzipped, of that build
  (``frontend/scripts/bundle-size.mjs``);
- the dashboard with 50 bots interactive after sign-in: from submitting the provider's sign-in
  form until the 50 cards are on screen and the running bot's link takes a click (median of
  ``BENCH_PORTAL_REPEAT`` sign-ins, each a new browser context); beside it, a reload of the
  dashboard already signed in;
- a fill visible on the run page (open, never reloaded) after the run loop records it: a paper
  run's fill is made by its worker's matching engine on the tick the exchange's price crosses
  the order and written on that tick; a thread polls the database every 5 ms for it.

``python -m benchmarks.bench_portal`` prints the figures alone.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tests.portal.stack import CHROMIUM, FRONTEND, drive, journey_env, needs, portal_stack

from benchmarks.api_stack import _url, throwaway_database
from benchmarks.measure import Figure
from tradebot.migrations import upgrade

REPEAT = int(os.environ.get("BENCH_PORTAL_REPEAT", "3"))
INITIAL_JS_KB = 200.0
DASHBOARD_MS = 1000.0
FILL_MS = 2000.0


def initial_js_kb(dist: Path) -> float:
    """The initial JavaScript of the build in ``dist``, gzipped, as the build's check counts it."""
    done = subprocess.run(
        ["node", "scripts/bundle-size.mjs", str(dist), "--json"],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"bundle-size.mjs printed nothing: {done.stderr.strip()[-300:]}")
    return float(json.loads(lines[-1])["initial_kb"])


def _journey(work: Path) -> tuple[dict[str, Any], float]:
    """The bench journey's figures and the build's initial JavaScript (kB)."""
    needs(CHROMIUM, "Chromium")
    master_key = base64.b64encode(secrets.token_bytes(32)).decode()
    with throwaway_database() as database:
        url = _url(database)
        upgrade(url)
        with portal_stack(url, master_key, work) as stack:
            kb = initial_js_kb(stack.dist)
            env = {**journey_env(stack, work / "shots", mode="bench"), "BENCH_REPEAT": str(REPEAT)}
            result = asyncio.run(drive(stack, env, echo=lambda _line: None))
    if result["error"] is not None:
        raise RuntimeError(str(result["error"]).splitlines()[0])
    return result["figures"], kb


def figures() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="tradebot-bench-portal-") as scratch:
        measured, kb = _journey(Path(scratch))
    load = os.getloadavg()[0]  # browser timings move with what else the machine runs
    signed_in = measured["dashboard_50_bots_after_sign_in_ms_all"]
    reloads = measured["dashboard_50_bots_ms_all"]
    return [
        Figure(
            "portal: initial JavaScript (gzipped)",
            round(kb, 1),
            "kB",
            INITIAL_JS_KB,
            note="entry script and its static imports, of the production build",
        ),
        Figure(
            "portal: dashboard of 50 bots interactive after sign-in (Chromium, loopback)",
            round(statistics.median(signed_in)),
            "ms",
            DASHBOARD_MS,
            note=f"median of {len(signed_in)} sign-ins {signed_in} ms, from submitting the "
            f"provider's form; a reload signed in: {reloads} ms; load average {load:.1f}",
        ),
        Figure(
            "portal: a fill visible on the run page after the run records it",
            measured.get("fill_visible_after_recorded_ms"),
            "ms",
            FILL_MS,
            note=f"open run page, no reload; {measured['fill_visible_after_api_ms']} ms after "
            "the API first answered it (polled every 50 ms)",
        ),
    ]


def main() -> int:
    from rich.console import Console

    from benchmarks.run import _table

    Console(width=160).print(_table(figures()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
