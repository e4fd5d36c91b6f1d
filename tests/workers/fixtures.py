"""Helpers of the worker tests: their settings (``worker_env``), runs asked for as the API
asks, workers in this process or as real ``tradebot worker`` processes, and waiting on the
database."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.worker import Worker, create_worker
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import unique_id
from tests.runs.live_fixtures import assert_fills_as_charged
from tradebot.admin.service import ClientAdmin, ClientChanges
from tradebot.bots.schemas import GridSpec
from tradebot.candles.model import Candles
from tradebot.config import Settings
from tradebot.db import transaction
from tradebot.engine.orders import ACTIVE
from tradebot.engine.plan import build_plan
from tradebot.engine.types import MarketRules
from tradebot.models.runs import BotFill, BotOrder, BotRun, RunAction, RunRequest
from tradebot.research.backtest import run_backtest
from tradebot.runs.queue import ArqRunQueue
from tradebot.workers.settings import worker_settings
from tradebot.workers.state import STATE, WorkerOptions, WorkerState

# Ninety real minutes (2024-12-02 09:20 on) and a tight grid over them (tests/runs' window).
WINDOW = slice(2000, 2090)
GRID = {
    "lower": 94_820.0,
    "upper": 95_547.0,
    "lines": 8,
    "investment": 2_000.0,
    "spacing": "arithmetic",
    "maker_fee": 0.0005,
    "taker_fee": 0.001,
}
LEASE_MS = 1_500
RULES = MarketRules(tick_size=0.01, lot_step=0.00001, min_notional=5.0, min_qty=0.00001)
"""The simulator's BTC/USDT filters (its defaults)."""


@pytest.fixture
async def worker_env(pg_url: str, master_key: str) -> AsyncIterator[Settings]:
    """The session database, and a queue and key prefix of their own on the real Redis (their
    keys deleted afterwards)."""
    tag = secrets.token_hex(4)
    settings = Settings(
        PG_URL=pg_url,
        CLIENT_MASTER_KEY=master_key,
        REDIS_PREFIX=f"tradebot-wtest-{tag}",
        RUN_QUEUE_NAME=f"tradebot-wtest-runs-{tag}",
        NOT_FOUND_GRACE_MS=300,
        ORDER_RATE_INTERVAL_MS=0,
        MAX_RUN_LOSS_USD=1e9,
        MAX_GLOBAL_DRAWDOWN_USD=1e9,
        STALE_TICKER_MS=10**12,
    )
    yield settings
    redis = Redis.from_url(settings.REDIS_URL)
    try:
        keys = [k async for k in redis.scan_iter(f"*{tag}*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


def options(sim_url: str, **changes: Any) -> WorkerOptions:
    fields: dict[str, Any] = {
        "sandbox_url": sim_url,
        "sandbox_step": True,
        "lease_ms": LEASE_MS,
        "watch_ms": 100,
        "shutdown_wait_s": 10,
        "db_pool_size": 5,
        # The test database holds other tests' runs: a sweeper would hand them to this queue.
        "sweep": False,
    }
    return WorkerOptions(**{**fields, **changes})


async def paper_client(sessions: async_sessionmaker[AsyncSession], plan: str = "pro") -> str:
    client = unique_id("wk")
    await ClientAdmin(sessions, actor="test").upsert_client(
        client, ClientChanges(plan=plan, status="active")
    )
    return client


async def ask_for_run(
    sessions: async_sessionmaker[AsyncSession],
    client_id: str,
    *,
    mode: str = "paper",
    status: str = "created",
    grid: dict[str, Any] | None = None,
) -> str:
    """A run row and its start request, as ``RunService.start`` writes them (no enqueue)."""
    run_id = f"{mode}-{unique_id('r')}"
    async with transaction(sessions) as session:
        session.add(
            BotRun(
                id=run_id,
                client_id=client_id,
                mode=mode,
                exchange="binance",
                pair="BTC/USDT",
                status=status,
                config={**(grid or GRID), "bot_id": "b1"},
                base_ts=int(time.time() * 1000),
                owner="test",
            )
        )
        await session.flush()
        session.add(RunRequest(client_id=client_id, run_id=run_id, action=RunAction.START.value))
    return run_id


async def enqueue(settings: Settings, client_id: str, run_id: str) -> bool:
    redis = ArqRedis.from_url(settings.REDIS_URL)
    try:
        return await ArqRunQueue(redis, settings.RUN_QUEUE_NAME).start(client_id, run_id)
    finally:
        await redis.aclose()


@asynccontextmanager
async def in_process_worker(
    settings: Settings, opts: WorkerOptions, *, burst: bool = False
) -> AsyncIterator[Worker]:
    """A real arq worker on this event loop; on exit its runs are handed over and it closes."""
    worker = create_worker(worker_settings(settings, opts), burst=burst, handle_signals=False)
    task = asyncio.create_task(worker.async_run())
    try:
        yield worker
        if burst:
            await asyncio.wait_for(asyncio.shield(task), 60)
    finally:
        state: WorkerState | None = worker.ctx.get(STATE)
        if state is not None:
            state.shutdown()
        worker.allow_pick_jobs = False  # as on SIGTERM: the handed-over jobs wait for others
        deadline = time.monotonic() + 10
        while worker.tasks and any(not t.done() for t in worker.tasks.values()):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        task.cancel()
        await worker.close()


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 30.0, what: str = "condition"
) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def run_row(sessions: async_sessionmaker[AsyncSession], run_id: str) -> BotRun:
    async with transaction(sessions) as session:
        row = await session.get(BotRun, run_id)
        assert row is not None
        return row


async def fills_of(sessions: async_sessionmaker[AsyncSession], run_id: str) -> list[BotFill]:
    async with transaction(sessions) as session:
        query = select(BotFill).where(BotFill.run_id == run_id).order_by(BotFill.id)  # type: ignore[arg-type]
        return list((await session.execute(query)).scalars())


async def assert_backtest_fills(
    sessions: async_sessionmaker[AsyncSession], run_id: str, candles: Candles
) -> int:
    """The run's fills are the fast backtest's of ``GRID`` on ``candles``, with the fees the
    venue charged (a paper run's in quote: exactly the backtest's; a live run's as the
    simulator charges them, as Binance does); returns its round trips."""
    backtest = run_backtest(build_plan(GridSpec.model_validate(GRID).config(), RULES), candles)
    fills = await fills_of(sessions, run_id)
    assert_fills_as_charged(fills, backtest.fills, "BTC", "USDT", RULES.lot_step)
    return backtest.round_trips


async def open_orders(sessions: async_sessionmaker[AsyncSession], run_id: str) -> int:
    async with transaction(sessions) as session:
        query = select(BotOrder).where(
            BotOrder.run_id == run_id,  # type: ignore[arg-type]
            BotOrder.status.in_([s.value for s in ACTIVE]),  # type: ignore[attr-defined]
        )
        return len(list((await session.execute(query)).scalars()))


def worker_process(
    settings: Settings,
    sim_url: str,
    *extra: str,
    master_key: str | None = None,
    name: str | None = None,
) -> subprocess.Popen[bytes]:
    """``tradebot worker`` as its own process on the test database, queue and simulator
    (``name``: its ``WORKER_NAME``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRID_", "PG_"))}
    env.update(
        PG_URL=str(settings.PG_URL),
        REDIS_URL=settings.REDIS_URL,
        REDIS_PREFIX=settings.REDIS_PREFIX,
        RUN_QUEUE_NAME=settings.RUN_QUEUE_NAME,
        NOT_FOUND_GRACE_MS="300",
        ORDER_RATE_INTERVAL_MS="0",
        MAX_RUN_LOSS_USD="1000000",
        MAX_GLOBAL_DRAWDOWN_USD="1000000",
        STALE_TICKER_MS="1000000000",
        LOG_LEVEL="ERROR",
    )
    if master_key is not None:
        env["CLIENT_MASTER_KEY"] = master_key
    if name is not None:
        env["WORKER_NAME"] = name
    command = [sys.executable, "-m", "tradebot.cli.main", "worker", "--sandbox-url", sim_url]
    command += ["--sandbox-step", "--no-sweep", "--lease-seconds", str(LEASE_MS / 1000), *extra]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@asynccontextmanager
async def worker_state(settings: Settings, opts: WorkerOptions) -> AsyncIterator[WorkerState]:
    """The state a worker builds at start-up (pool, feeds, watcher), without its poll loop:
    for calling cron jobs directly."""
    config = worker_settings(settings, opts)
    ctx: dict[str, Any] = {"redis": ArqRedis.from_url(settings.REDIS_URL)}
    await config["on_startup"](ctx)
    try:
        yield ctx[STATE]
    finally:
        await config["on_shutdown"](ctx)
        await ctx["redis"].aclose()


@contextmanager
def running_worker(
    settings: Settings, sim_url: str, *, master_key: str | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``worker_process`` for the length of a block; a worker that does not stop within 30 s
    of SIGTERM is killed and fails the test."""
    process = worker_process(settings, sim_url, master_key=master_key)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
