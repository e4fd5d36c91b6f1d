"""Run jobs on a real arq worker against the exchange simulator (stepped: deterministic).

The job takes the run the API recorded, drives it on the worker's shared price feed, and
writes what the run did; stop, kill switch and a second enqueue behave as the API expects.
"""

from __future__ import annotations

import pytest
from arq.worker import Worker
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.venues.sim_fixtures import account, running_sim, sim_config
from tests.workers.fixtures import (
    GRID,
    WINDOW,
    ask_for_run,
    enqueue,
    eventually,
    fills_of,
    in_process_worker,
    open_orders,
    options,
    paper_client,
    run_row,
)
from tradebot.backtest.service import run_backtest
from tradebot.bots.models import RunRequest
from tradebot.bots.queue import ArqRunQueue, run_job_id
from tradebot.bots.runs import RunService
from tradebot.bots.schemas import GridSpec
from tradebot.candles.io import bundled, load_candles
from tradebot.candles.model import Candles
from tradebot.db import transaction
from tradebot.engine.plan import build_plan
from tradebot.engine.types import MarketRules
from tradebot.kit.tenancy import TenantScope
from tradebot.runs.repository import trip_kill_switch
from tradebot.venues.exchange_sim import MarketConfig, SimConfig
from tradebot.workers.lease import RunLease

RULES = MarketRules(tick_size=0.01, lot_step=0.00001, min_notional=5.0, min_qty=0.00001)


def _sim(candles_to: int = WINDOW.stop) -> tuple[Candles, SimConfig]:
    candles = load_candles(bundled()).slice(WINDOW.start, candles_to)
    market = MarketConfig(maker_fee=0.0005, taker_fee=0.001)
    return candles, sim_config(candles, [account(usdt=2_000.0, btc=0.0)], market=market)


async def _requests(
    sessions: async_sessionmaker[AsyncSession], run_id: str
) -> list[tuple[str, str]]:
    async with transaction(sessions) as session:
        rows = await session.execute(
            select(RunRequest.action, RunRequest.status).where(RunRequest.run_id == run_id)
        )
        return sorted((action, status) for action, status in rows.all())


async def test_a_paper_run_job_runs_to_the_end_with_the_backtests_fills(worker_env, sessions):
    candles, config = _sim()
    async with running_sim(config) as sim:
        client = await paper_client(sessions)
        run_id = await ask_for_run(sessions, client)
        assert await enqueue(worker_env, client, run_id)
        async with in_process_worker(worker_env, options(sim.url), burst=True) as worker:
            pass
    assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)
    row = await run_row(sessions, run_id)
    assert (row.status, row.stop_reason) == ("finished", "replay complete")
    backtest = run_backtest(build_plan(GridSpec.model_validate(GRID).config(), RULES), candles)
    assert backtest.round_trips == 9
    fills = await fills_of(sessions, run_id)
    assert [(f.ts, f.side, f.line) for f in fills] == [
        (f.ts, f.side.value, f.line) for f in backtest.fills
    ]
    for got, want in zip(fills, backtest.fills, strict=True):
        assert got.price == pytest.approx(want.price, rel=1e-9)
        assert got.qty == pytest.approx(want.qty, rel=1e-9)
    assert await _requests(sessions, run_id) == [("start", "done")]


async def test_a_second_enqueue_is_refused_and_a_run_leased_elsewhere_is_left_alone(
    worker_env, sessions
):
    _candles, config = _sim()
    async with running_sim(config) as sim:
        client = await paper_client(sessions)
        run_id = await ask_for_run(sessions, client)
        assert await enqueue(worker_env, client, run_id)
        assert not await enqueue(worker_env, client, run_id)  # one job per run id
        redis = Redis.from_url(worker_env.REDIS_URL)
        other = RunLease(redis, worker_env.REDIS_PREFIX, run_id, run_job_id(run_id), 60_000)
        assert await other.acquire()  # another worker drives the run
        try:
            async with in_process_worker(worker_env, options(sim.url)) as worker:
                await eventually(lambda: _done(worker), what="the job to end")
        finally:
            await other.release()
            await redis.aclose()
    row = await run_row(sessions, run_id)
    assert row.status == "created"  # untouched: the job saw the lease and did nothing
    assert await fills_of(sessions, run_id) == []
    assert await open_orders(sessions, run_id) == 0


async def _done(worker: Worker) -> bool:
    return bool(worker.jobs_complete)


async def _trading(sessions: async_sessionmaker[AsyncSession], run_id: str) -> bool:
    row = await run_row(sessions, run_id)
    return row.status == "running" and len(await fills_of(sessions, run_id)) >= 2


async def test_a_stop_through_the_api_ends_the_run_after_its_tick_with_orders_resting(
    worker_env, sessions
):
    _candles, config = _sim(WINDOW.start + 1200)
    async with running_sim(config) as sim:
        client = await paper_client(sessions)
        run_id = await ask_for_run(sessions, client)
        assert await enqueue(worker_env, client, run_id)
        async with in_process_worker(worker_env, options(sim.url)) as worker:
            await eventually(lambda: _trading(sessions, run_id), what="the run to trade")
            service = RunService(
                sessions,
                TenantScope.of(client),
                "user",
                ArqRunQueue(worker.pool, worker_env.RUN_QUEUE_NAME),
            )
            stopping = await service.stop(run_id)
            assert stopping.status == "running"  # the worker writes the end
            await eventually(lambda: _done(worker), what="the job to end")
    row = await run_row(sessions, run_id)
    assert (row.status, row.stop_reason) == ("stopped", "stopped on request")
    assert await open_orders(sessions, run_id) > 0  # left resting, adopted by a restart
    assert await _requests(sessions, run_id) == [("start", "done"), ("stop", "done")]
    assert not sim.sim.market.done  # it stopped before the end of the candles


async def test_a_kill_switch_trip_stops_the_run(worker_env, sessions):
    _candles, config = _sim(WINDOW.start + 1200)
    async with running_sim(config) as sim:
        client = await paper_client(sessions)
        run_id = await ask_for_run(sessions, client)
        assert await enqueue(worker_env, client, run_id)
        async with in_process_worker(worker_env, options(sim.url)) as worker:
            await eventually(lambda: _trading(sessions, run_id), what="the run to trade")
            await trip_kill_switch(sessions, client, "kill_switch", "operator says stop", 0)
            await eventually(lambda: _done(worker), what="the job to end")
    row = await run_row(sessions, run_id)
    assert row.status == "stopped"
    assert row.stop_reason == "kill switch: kill_switch: operator says stop"
    assert await open_orders(sessions, run_id) > 0
