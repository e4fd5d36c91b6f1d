"""How many paper bots one worker process drives, and their tick-to-decision latency (#5).

The stack is real: a throwaway PostgreSQL database, Redis, and the exchange simulator
(``tradebot exchange-sim``, stepped) in a process of its own. ``BOTS`` paper runs of
``CLIENTS`` clients are asked for as the API asks (run row, start request, job enqueued), each
with a grid of its own on BTC/USDT. This process is then one arq worker (``tradebot.workers``)
that takes every job: one shared feed polls the simulator through ccxt and fans each tick out
to every run. Once every bot has placed its book, ``STEPS`` ticks are measured: a tick is
stamped when the worker receives it and each run's decision is done when it asks for the next
one (its fills, orders and database writes included). The feed waits for every run before the
next step, so each tick reaches all bots at once: p99 is about the time the whole fan-out
takes, the worst case of a live feed that ticks every ``ORDER_POLL_INTERVAL_MS``.

``BENCH_WORKER_BOTS`` and ``BENCH_WORKER_STEPS`` change the load; ``python -m
benchmarks.bench_workers`` prints the figures alone.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import secrets
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import aiohttp
import psycopg
from arq.connections import ArqRedis
from arq.worker import create_worker
from psycopg import sql
from sqlalchemy import func, select, text
from sqlalchemy.engine import URL

from benchmarks.measure import Figure, tradebot_command
from tradebot.candles.io import bundled, load_candles
from tradebot.config import Settings
from tradebot.db import transaction
from tradebot.kit.loop import run as run_loop
from tradebot.migrations import upgrade
from tradebot.models.clients import Client
from tradebot.models.runs import BotFill, BotOrder, BotRun, RunAction, RunRequest
from tradebot.observability.logs import configure_logging
from tradebot.runs.queue import ArqRunQueue
from tradebot.workers.settings import worker_settings
from tradebot.workers.state import STATE, WorkerOptions, WorkerState

BOTS = int(os.environ.get("BENCH_WORKER_BOTS", "1000"))
STEPS = int(os.environ.get("BENCH_WORKER_STEPS", "150"))
CLIENTS = max(1, BOTS // 10)
FIRST_CANDLE = 2000  # 2024-12-02 09:20 UTC in the bundled week
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _maintenance() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True
        )
    except psycopg.OperationalError as exc:
        raise RuntimeError(f"PostgreSQL at {PG_HOST}:{PG_PORT} is needed: {exc}") from None


@contextmanager
def database() -> Iterator[str]:
    """A migrated throwaway database (its async URL), dropped at the end."""
    name = f"tradebot_bench_workers_{secrets.token_hex(4)}"
    with _maintenance() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = URL.create(
            "postgresql+asyncpg", username=PG_USER, host=PG_HOST, port=PG_PORT, database=name
        ).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        with _maintenance() as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))


@contextmanager
def simulator(speed: float = 0.0) -> Iterator[str]:
    """``tradebot exchange-sim`` from the bench window (stepped at speed 0); its URL."""
    command = [*tradebot_command(), "exchange-sim", "--port", "0", "--speed", str(speed)]
    command += ["--start-candle", str(FIRST_CANDLE), "--weight-limit", "100000000"]
    command += ["--connection-limit", "100000000"]  # ours pace them: the benches lift ours too
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("exchange simulator on "):
                yield line.split()[3]
                return
        raise RuntimeError(
            f"exchange-sim did not start: {proc.stderr.read() if proc.stderr else ''}"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def grid(rng: random.Random, price: float) -> dict[str, Any]:
    """A grid around ``price``: 3-12 % wide, lines at least 0.4 % apart (above the fees)."""
    width = rng.uniform(0.03, 0.12)
    centre = price * (1 + rng.uniform(-0.01, 0.01))
    return {
        "lower": round(centre * (1 - width / 2), 2),
        "upper": round(centre * (1 + width / 2), 2),
        "lines": max(5, min(50, int(width / 0.004))),
        "investment": float(rng.choice([1_000, 2_000, 5_000])),
        "spacing": rng.choice(["arithmetic", "geometric"]),
    }


async def _ask_for_runs(settings: Settings, sessions: Any) -> None:
    rng = random.Random(5)
    price = float(load_candles(bundled()).close[FIRST_CANDLE])
    clients = [f"bench-{n:04d}" for n in range(CLIENTS)]
    runs = [(clients[n % CLIENTS], f"paper-bench-{n:05d}") for n in range(BOTS)]
    async with transaction(sessions) as session:
        session.add_all([Client(id=c, plan="managed", status="active") for c in clients])
    rows = [
        BotRun(
            id=run, client_id=client, mode="paper", exchange="binance", pair="BTC/USDT",
            config={**grid(rng, price), "bot_id": "bench"}, base_ts=0, owner="bench",
        )
        for client, run in runs
    ]  # fmt: skip
    await start_runs(settings, sessions, rows)


async def start_runs(settings: Settings, sessions: Any, runs: list[BotRun]) -> None:
    """``runs`` asked for as the API asks: their rows, their start requests, their jobs."""
    async with transaction(sessions) as session:
        session.add_all(runs)
        await session.flush()
        session.add_all(
            RunRequest(client_id=r.client_id, run_id=r.id, action=RunAction.START.value)
            for r in runs
        )
    redis = ArqRedis.from_url(settings.REDIS_URL)
    try:
        queue = ArqRunQueue(redis, settings.RUN_QUEUE_NAME)
        for run in runs:
            await queue.start(run.client_id, run.id)
    finally:
        await redis.aclose()


@asynccontextmanager
async def worker_in_process(
    settings: Settings, options: WorkerOptions, runs: str
) -> AsyncIterator[WorkerState]:
    """This process as an arq worker on ``settings``; at the end it hands its runs back
    (shutdown, as on SIGTERM) and the bench's Redis keys (jobs of ``runs*``) are removed."""
    worker = create_worker(worker_settings(settings, options), handle_signals=False)
    task = asyncio.create_task(worker.async_run())
    try:
        while STATE not in worker.ctx:
            await asyncio.sleep(0.1)
        yield worker.ctx[STATE]
    finally:
        if STATE in worker.ctx:
            worker.ctx[STATE].shutdown()
        worker.allow_pick_jobs = False
        deadline = time.monotonic() + options.shutdown_wait_s
        while any(not t.done() for t in worker.tasks.values()) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        task.cancel()
        await worker.close()
        await forget(settings, runs)


async def until_booked(state: WorkerState, runs: int, timeout_s: float) -> float:
    """Wait until ``runs`` runs have placed orders; the seconds it took."""
    started = time.monotonic()
    booked = select(func.count(func.distinct(BotOrder.run_id)))
    while await count(state.sessions, booked) < runs:
        if time.monotonic() - started > timeout_s:
            raise RuntimeError(f"only {len(state.runs)} of {runs} runs started in {timeout_s} s")
        await asyncio.sleep(1.0)
    return time.monotonic() - started


async def count(sessions: Any, query: Any) -> int:
    async with transaction(sessions) as session:
        return int(await session.scalar(query) or 0)


async def _commits(sessions: Any) -> int:
    """Transactions committed in the bench database so far (PostgreSQL's own count)."""
    query = text("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    async with transaction(sessions) as session:
        return int(await session.scalar(query) or 0)


async def _segments(http: aiohttp.ClientSession, sim_url: str) -> int:
    async with http.get(f"{sim_url}/_sim/state") as response:
        market = (await response.json())["market"]
    return int(market["candle"]) * 3 + int(market["segments_walked"])


async def _measure(sim_url: str, database_url: str) -> dict[str, float]:
    tag = secrets.token_hex(4)
    settings = Settings(
        PG_URL=database_url.replace("+asyncpg", ""),
        REDIS_URL=REDIS_URL,
        REDIS_PREFIX=f"tradebot-bench-{tag}",
        RUN_QUEUE_NAME=f"tradebot-bench-runs-{tag}",
        MAX_RUN_LOSS_USD=1e9,
        MAX_GLOBAL_DRAWDOWN_USD=1e9,
        STALE_TICKER_MS=10**12,
        ORDER_RATE_INTERVAL_MS=0,
    )
    options = WorkerOptions(
        sandbox_url=sim_url, sandbox_step=True, max_jobs=BOTS + 10, shutdown_wait_s=120
    )
    async with worker_in_process(settings, options, "paper-bench-") as state:
        await _ask_for_runs(settings, state.sessions)
        start_s = await until_booked(state, BOTS, 900)
        async with aiohttp.ClientSession() as http:
            state.feeds.samples.clear()
            fills = await count(state.sessions, select(func.count()).select_from(BotFill))
            commits = await _commits(state.sessions)
            first, wall, cpu = (
                await _segments(http, sim_url),
                time.perf_counter(),
                time.process_time(),
            )
            while (last := await _segments(http, sim_url)) < first + STEPS:
                await asyncio.sleep(0.5)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            commits = await _commits(state.sessions) - commits
        latency = state.feeds.samples.latency
        return {
            "bots": float(len(state.runs)),
            "start_s": start_s,
            "p50": latency.percentile(0.5),
            "p99": latency.percentile(0.99),
            "p90": latency.percentile(0.90),
            "max": latency.percentile(1.0),
            "decisions": float(latency.count),
            "ticks": float(last - first),
            "commits": float(commits),
            "ticks_per_s": (last - first) / wall,
            "cpu_share": cpu / wall,
            "fills": float(
                await count(state.sessions, select(func.count()).select_from(BotFill)) - fills
            ),
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }


async def forget(settings: Settings, runs: str = "paper-bench-") -> None:
    """Remove the bench's keys from Redis (its limiter, queue and the jobs of ``runs*``)."""
    redis = ArqRedis.from_url(settings.REDIS_URL)
    try:
        for pattern in (
            f"{settings.REDIS_PREFIX}*",
            f"{settings.RUN_QUEUE_NAME}*",
            f"arq:*:run:{runs}*",
        ):
            keys = [key async for key in redis.scan_iter(pattern, count=1000)]
            if keys:
                await redis.delete(*keys)
    finally:
        await redis.aclose()


def figures() -> list[Figure]:
    """The worker figures of ``make bench``."""
    configure_logging(os.environ.get("BENCH_LOG_LEVEL", "ERROR"))
    with database() as database_url, simulator() as sim_url:
        got = run_loop(_measure(sim_url, database_url))
    note = (
        f"{got['decisions']:,.0f} decisions over {got['ticks']:.0f} ticks "
        f"({got['ticks_per_s']:.1f} ticks/s, {got['fills']:,.0f} fills, "
        f"{got['commits'] / max(got['ticks'], 1):,.0f} transactions a tick), "
        f"p90 {got['p90']:.0f} ms, max {got['max']:.0f} ms; "
        f"CPU {got['cpu_share']:.0%} of a core, peak {got['rss_mb']:,.0f} MB; "
        f"all bots started in {got['start_s']:.0f} s"
    )
    return [
        Figure("paper bots driven by one worker process", got["bots"], "bots", BOTS, True),
        Figure("tick-to-decision p50 (every bot, every tick)", round(got["p50"], 1), "ms"),
        Figure(
            "tick-to-decision p99 (every bot, every tick)",
            round(got["p99"], 1),
            "ms",
            100.0,
            note=note,
        ),
    ]


if __name__ == "__main__":
    for figure in figures():
        shown = f"{figure.shown(figure.value)} {figure.target_text} {figure.status}"
        print(f"{figure.name}: {shown} {figure.note}")
