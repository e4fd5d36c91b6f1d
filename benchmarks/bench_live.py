"""Live runs per egress IP: the request weight a live run costs a minute, by stream and by poll.

The stack is real: a throwaway PostgreSQL database, Redis, and the exchange simulator
(``tradebot exchange-sim``) replaying the bench window in real time (``SPEED`` times faster,
so that fills, and the orders that replace them, come more often than on a real market: the
figures err on the costly side). ``RUNS`` live runs of as many clients, each with a simulator
account of its own and its key checked by the exchange, are asked for as the API asks, and
this process is one arq worker that takes them all: the pair's ticker stream is shared, each
run listens to its account's user-data stream.

Once every run has placed its book, the weight the simulator charged (every REST request, all
accounts and the public ones) is read over ``SECONDS`` in each phase:

- ``streams``: both streams up (the steady state), read over a whole period of the runs'
  periodic REST reconciliation (``RECONCILE_INTERVAL_MS``, five minutes) if that is longer:
  each run's falls in it once (a minute's window missed them all);
- ``price stream down``: the ticker stream stalled (socket open, nothing sent): the worker
  polls the ticker by REST for all its runs;
- ``user streams down``: every user-data stream stalled: fills are found because the market
  traded through an order, and by the periodic reconciliation;
- ``polling``: the same runs with ``EXCHANGE_STREAMS=false`` (today's polling, measured in a
  fresh stack).

A run's weight a minute gives the runs one IP carries within ``HEADROOM`` of Binance's 6,000
weight a minute. The feed's event-to-decision latency over the streams phase is reported too
(``workers.latency``): of the decisions on news (a fill on the run's user stream; a price near
one of its loss guards, or past one of its lines while its user stream is not trusted), and
beside it their time to done, the exchange's round trips included,
and the latency of the runs' routine looks (a run asleep looks again every few seconds by the
clock: no event, nothing to decide).
``BENCH_LIVE_RUNS`` (1,000: the target's load), ``BENCH_LIVE_POLLING_RUNS`` (50),
``BENCH_LIVE_SECONDS`` and ``BENCH_LIVE_SPEED`` change the load.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import time
from typing import Any

import aiohttp
from tools.soak.harness import store_live_client

from benchmarks.bench_workers import (
    REDIS_URL,
    database,
    grid,
    simulator,
    start_runs,
    until_booked,
    worker_in_process,
)
from benchmarks.measure import Figure
from tradebot.candles.io import bundled, load_candles
from tradebot.config import Settings
from tradebot.kit.loop import run as run_loop
from tradebot.models.runs import BotRun
from tradebot.observability.logs import configure_logging
from tradebot.workers.state import WorkerOptions

RUNS = int(os.environ.get("BENCH_LIVE_RUNS", "1000"))
POLLING_RUNS = min(RUNS, int(os.environ.get("BENCH_LIVE_POLLING_RUNS", "50")))
"""Runs of the polling phase: a run's polls cost the same weight however many there are, and a
thousand polling runs would spend the bench's time on the simulator's CPU."""
SECONDS = float(os.environ.get("BENCH_LIVE_SECONDS", "60"))
SPEED = float(os.environ.get("BENCH_LIVE_SPEED", "10"))
FIRST_CANDLE = 2000
IP_WEIGHT_PER_MIN = 6_000
HEADROOM = 0.8
RUN_PREFIX = "live-bench-"


async def _sim(http: aiohttp.ClientSession, url: str, method: str, path: str, body: Any) -> Any:
    async with http.request(method, url + path, json=body) as response:
        answer = await response.json()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {answer}")
        return answer


async def _charged(http: aiohttp.ClientSession, url: str) -> int:
    return int((await _sim(http, url, "GET", "/_sim/state", None))["limits"]["charged"])


async def _ask_for_runs(
    settings: Settings, sessions: Any, sim_url: str, master_key: str, runs_wanted: int, prefix: str
) -> None:
    rng = random.Random(7)
    price = float(load_candles(bundled()).close[FIRST_CANDLE])
    runs = []
    async with aiohttp.ClientSession() as http:
        for n in range(runs_wanted):
            client, key = f"live-bench-{n:04d}", f"bench-key-{n:04d}"
            secret = secrets.token_hex(16)
            account = {"api_key": key, "secret": secret, "balances": {"USDT": 10_000.0}}
            await _sim(http, sim_url, "POST", "/_sim/accounts", account)
            await store_live_client(sessions, master_key, client, key, secret, sim_url)
            runs.append((client, f"{prefix}{n:05d}"))
    rows = [
        BotRun(
            id=run, client_id=client, mode="live", exchange="binance", pair="BTC/USDT",
            config={**grid(rng, price), "investment": 1_000.0, "bot_id": "bench"},
            base_ts=int(time.time() * 1000), owner="bench",
        )
        for client, run in runs
    ]  # fmt: skip
    await start_runs(settings, sessions, rows)


async def _weight_per_run_minute(
    http: aiohttp.ClientSession, sim_url: str, runs: int, seconds: float = SECONDS
) -> float:
    before, started = await _charged(http, sim_url), time.monotonic()
    await asyncio.sleep(seconds)
    used = await _charged(http, sim_url) - before
    return used / runs / ((time.monotonic() - started) / 60)


async def _stall(http: aiohttp.ClientSession, sim_url: str, channel: str | None) -> None:
    await _sim(http, sim_url, "DELETE", "/_sim/faults", None)
    if channel is not None:
        rule = {"kind": "stall", "channel": channel, "seconds": SECONDS * 10}
        await _sim(http, sim_url, "POST", "/_sim/faults", {"streams": [rule]})


async def _measure(sim_url: str, database_url: str, streams: bool) -> dict[str, float]:
    tag = secrets.token_hex(4)
    master_key = secrets.token_hex(32)
    settings = Settings(
        PG_URL=database_url.replace("+asyncpg", ""),
        REDIS_URL=REDIS_URL,
        REDIS_PREFIX=f"tradebot-bench-{tag}",
        RUN_QUEUE_NAME=f"tradebot-bench-runs-{tag}",
        EGRESS_IP=f"bench-{tag}",
        CLIENT_MASTER_KEY=master_key,
        EXCHANGE_STREAMS=streams,
        # The start (a key check and a book of orders per run) is not what is measured: the
        # budget is the simulator's, which charges every request; ours would only pace it.
        RATE_LIMIT_WEIGHT_PER_MIN=10_000_000,
        # Nor is the pace of new sockets: at Binance's 300 in 5 minutes a thousand accounts'
        # user streams take ~20 minutes to connect; what is measured is the steady state after.
        RATE_LIMIT_CONNECTIONS_PER_5MIN=10_000_000,
        MAX_RUN_LOSS_USD=1e9,
        MAX_GLOBAL_DRAWDOWN_USD=1e9,
        STALE_TICKER_MS=10**12,
        MAX_API_ERRORS_PER_MIN=100_000,
    )
    runs = RUNS if streams else POLLING_RUNS
    options = WorkerOptions(sandbox_url=sim_url, max_jobs=runs + 10, shutdown_wait_s=60)
    # Run ids of this bench alone: a bench stopped midway leaves its jobs in Redis (a
    # week-long key), and arq would refuse a later bench's jobs of the same ids.
    prefix = f"{RUN_PREFIX}{tag}-"
    async with worker_in_process(settings, options, prefix) as state:
        await _ask_for_runs(settings, state.sessions, sim_url, master_key, runs, prefix)
        started = await until_booked(state, runs, 900)
        got: dict[str, float] = {"start_s" if streams else "polling_start_s": started}
        await asyncio.sleep(5)  # past every run's first reconciliation
        async with aiohttp.ClientSession() as http:
            if not streams:
                got["polling"] = await _weight_per_run_minute(http, sim_url, runs)
                return got
            samples = state.feeds.samples
            samples.clear()
            state.loop.clear()
            # A whole reconciliation period: every run's REST reconciliation falls in it once.
            period = max(SECONDS, settings.RECONCILE_INTERVAL_MS / 1000)
            got["streams"] = await _weight_per_run_minute(http, sim_url, runs, period)
            decision, done, due = samples.decision, samples.latency, samples.due
            got["p99"], got["p50"] = decision.percentile(0.99), decision.percentile(0.5)
            got["decisions"] = decision.count
            got["done_p99"], got["done_p50"] = done.percentile(0.99), done.percentile(0.5)
            got["due_p99"], got["due_p50"] = due.percentile(0.99), due.percentile(0.5)
            got["dues"] = due.count
            got["stalls"], got["longest_stall_ms"] = state.loop.stalls, state.loop.longest_s * 1000
            await _stall(http, sim_url, "market")
            got["price_down"] = await _weight_per_run_minute(http, sim_url, runs)
            await _stall(http, sim_url, "user")
            got["user_down"] = await _weight_per_run_minute(http, sim_url, runs)
            await _stall(http, sim_url, None)
        return got


LEAST_WEIGHT = 0.01
"""Weight a minute a run is counted at when the window charged none (a weight-1 request per
100 minutes): the runs per IP stay a number, not a division by zero."""


def _per_ip(weight: float) -> float:
    return round(IP_WEIGHT_PER_MIN * HEADROOM / max(weight, LEAST_WEIGHT))


def figures() -> list[Figure]:
    """The live-at-scale figures of ``make bench``."""
    configure_logging(os.environ.get("BENCH_LOG_LEVEL", "ERROR"))
    got: dict[str, float] = {}
    for streams in (True, False):
        with database() as database_url, simulator(SPEED) as sim_url:
            got |= run_loop(_measure(sim_url, database_url, streams))
    phases = (
        f"weight a minute per run: {got['streams']:.2f} with streams, "
        f"{got['price_down']:.2f} with the price stream down, "
        f"{got['user_down']:.2f} with the user streams stalled, "
        f"{got['polling']:.1f} polling ({POLLING_RUNS} runs); {RUNS} live runs, market at "
        f"{SPEED:g}x; started in {got['start_s']:.0f} s"
    )
    return [
        Figure(
            "live runs per egress IP, streams up (80 % of 6,000 weight/min)",
            _per_ip(got["streams"]),
            "runs",
            1_000,
            True,
            note=phases,
        ),
        Figure(
            "live runs per egress IP, price stream down",
            _per_ip(got["price_down"]),
            "runs",
        ),
        Figure(
            "live runs per egress IP, user-data streams stalled",
            _per_ip(got["user_down"]),
            "runs",
        ),
        Figure(
            "live runs per egress IP, polling (before streams)", _per_ip(got["polling"]), "runs"
        ),
        Figure(
            f"stream event to order decision p99 ({RUNS} live runs, one worker)",
            round(got["p99"], 1),
            "ms",
            50.0,
            note=(
                f"p50 {got['p50']:.1f} ms over {got['decisions']:.0f} decisions on news (a fill, "
                f"a price near a guard); to done (orders answered by the exchange, "
                f"writes ahead made) p50 {got['done_p50']:.1f} / p99 {got['done_p99']:.1f} ms; the "
                f"runs' routine looks (due by the clock, no news) p50 {got['due_p50']:.1f} / p99 "
                f"{got['due_p99']:.1f} ms over {got['dues']:.0f}; the worker's loop held past "
                f"50 ms {got['stalls']:.0f} times (longest {got['longest_stall_ms']:.0f} ms)"
            ),
        ),
    ]


if __name__ == "__main__":
    for figure in figures():
        shown = f"{figure.shown(figure.value)} {figure.target_text} {figure.status}"
        print(f"{figure.name}: {shown} {figure.note}")
