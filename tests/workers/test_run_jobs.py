"""Run jobs on a real arq worker against the exchange simulator (stepped: deterministic).

The job takes the run the API recorded, drives it on the worker's shared price feed, and
writes what the run did; stop, kill switch and a second enqueue behave as the API expects.
"""

from __future__ import annotations

import asyncio
import time

from arq.worker import Worker
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.runs.live_fixtures import live_client
from tests.venues.sim_fixtures import account, control, running_sim, sim_config
from tests.workers.fixtures import (
    WINDOW,
    ask_for_run,
    assert_backtest_fills,
    enqueue,
    eventually,
    fills_of,
    in_process_worker,
    open_orders,
    options,
    paper_client,
    run_row,
)
from tradebot.candles.io import bundled, load_candles
from tradebot.candles.model import Candles
from tradebot.db import transaction
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.models.runs import BotOrder, RequestStatus, RunAction, RunRequest
from tradebot.runs.grid_edit import GridEditRequests
from tradebot.runs.queue import ArqRunQueue, run_job_id
from tradebot.runs.schemas import GridEdit
from tradebot.runs.service import RunService
from tradebot.runs.store import trip_kill_switch
from tradebot.venues.exchange_sim import MarketConfig, SimConfig
from tradebot.workers.lease import RunLease, lease_key
from tradebot.workers.state import STATE


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
    # The run's job, and the sweeper cron when the test spans a minute's turn.
    assert worker.jobs_complete >= 1
    assert worker.jobs_failed == 0
    row = await run_row(sessions, run_id)
    assert (row.status, row.stop_reason) == ("finished", "replay complete")
    assert await assert_backtest_fills(sessions, run_id, candles) == 9
    assert await _requests(sessions, run_id) == [("start", "done")]


async def test_a_second_enqueue_is_refused_and_a_run_leased_elsewhere_waits_for_the_lease(
    worker_env, sessions
):
    _candles, config = _sim()
    async with running_sim(config) as sim:
        client = await paper_client(sessions)
        run_id = await ask_for_run(sessions, client)
        assert await enqueue(worker_env, client, run_id)
        assert not await enqueue(worker_env, client, run_id)  # one job per run id
        redis = Redis.from_url(worker_env.REDIS_URL)
        other = RunLease(
            redis, worker_env.REDIS_PREFIX, run_id, run_job_id(run_id), 60_000, "other"
        )
        assert await other.acquire()  # another worker drives the run
        try:
            async with in_process_worker(worker_env, options(sim.url)) as worker:
                await eventually(lambda: _retried(worker), what="the job to step back")
                row = await run_row(sessions, run_id)
                assert row.status == "created"  # untouched while the lease is elsewhere
                assert await open_orders(sessions, run_id) == 0
                await other.release()
                await eventually(lambda: _finished(sessions, run_id), what="the run to end")
        finally:
            await redis.aclose()
    assert (await run_row(sessions, run_id)).status == "finished"


async def _finished(sessions: async_sessionmaker[AsyncSession], run_id: str) -> bool:
    return (await run_row(sessions, run_id)).status == "finished"


async def _retried(worker: Worker) -> bool:
    return bool(worker.jobs_retried)


async def _job_gone(worker: Worker, run_id: str) -> bool:
    return await worker.pool.zscore(worker.queue_name, run_job_id(run_id)) is None


async def _stopped(sessions: async_sessionmaker[AsyncSession], run_id: str) -> bool:
    return (await run_row(sessions, run_id)).status == "stopped"


async def _cancelled(sessions: async_sessionmaker[AsyncSession], run_id: str) -> int:
    async with transaction(sessions) as session:
        rows = await session.execute(
            select(BotOrder.id).where(BotOrder.run_id == run_id, BotOrder.status == "cancelled")
        )
        return len(rows.all())


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
            # While it runs, its job is parked out of arq's poll (``workers.lease``).
            now = time.time() * 1000
            queued = worker.pool.zrangebyscore(worker_env.RUN_QUEUE_NAME, "-inf", now)
            assert run_job_id(run_id).encode() not in await queued
            service = RunService(
                sessions,
                ClientScope.of(client),
                "user",
                ArqRunQueue(worker.pool, worker_env.RUN_QUEUE_NAME),
            )
            stopping = await service.stop(run_id)
            assert stopping.status == "running"  # the worker writes the end
            await eventually(lambda: _stopped(sessions, run_id), what="the run to stop")
            await eventually(lambda: _job_gone(worker, run_id), what="the job to finish")
    row = await run_row(sessions, run_id)
    assert (row.status, row.stop_reason) == ("stopped", "stopped on request")
    assert await open_orders(sessions, run_id) > 0  # left resting, adopted by a restart
    assert await _requests(sessions, run_id) == [("start", "done"), ("stop", "done")]
    assert not sim.sim.market.done  # it stopped before the end of the candles


async def test_a_kill_switch_trip_stops_the_run_and_cancels_its_resting_orders(
    worker_env, sessions
):
    _candles, config = _sim(WINDOW.start + 1200)
    async with running_sim(config) as sim:
        client = await paper_client(sessions)
        run_id = await ask_for_run(sessions, client)
        assert await enqueue(worker_env, client, run_id)
        async with in_process_worker(worker_env, options(sim.url)):
            await eventually(lambda: _trading(sessions, run_id), what="the run to trade")
            await trip_kill_switch(sessions, client, "kill_switch", "operator says stop", 0)
            await eventually(lambda: _stopped(sessions, run_id), what="the run to stop")
    row = await run_row(sessions, run_id)
    assert row.status == "stopped"
    assert row.stop_reason == "kill switch: operator says stop"  # said once
    # Unlike a plain stop (orders left resting for a restart), the kill switch cancels them,
    # as the run's own tripped guard does: nothing of the grid can fill after it.
    assert await open_orders(sessions, run_id) == 0
    assert await _cancelled(sessions, run_id) > 0


async def _segments(url: str) -> int:
    market = (await control(url, "GET", "/_sim/state"))["market"]
    return int(market["candle"]) * 3 + int(market["segments_walked"])


async def test_a_run_whose_lease_is_taken_stops_at_once_and_resumes_once_it_is_free(
    worker_env, sessions
):
    _candles, config = _sim(WINDOW.start + 600)
    async with running_sim(config) as sim:
        client = await paper_client(sessions)
        run_id = await ask_for_run(sessions, client)
        assert await enqueue(worker_env, client, run_id)
        redis = Redis.from_url(worker_env.REDIS_URL)
        key = lease_key(worker_env.REDIS_PREFIX, run_id)
        try:
            async with in_process_worker(worker_env, options(sim.url)) as worker:
                await eventually(lambda: _trading(sessions, run_id), what="the run to trade")
                await redis.set(key, "another-worker", px=60_000)  # taken over
                await eventually(lambda: _retried(worker), what="the job to step back")
                await asyncio.sleep(0.2)
                held_at = await _segments(sim.url)
                fills = len(await fills_of(sessions, run_id))
                await asyncio.sleep(1.0)
                assert await _segments(sim.url) == held_at  # nobody steps the market now
                assert len(await fills_of(sessions, run_id)) == fills
                assert (await run_row(sessions, run_id)).status == "running"  # nothing written
                await redis.delete(key)
                await eventually(lambda: _finished(sessions, run_id), timeout=150, what="the end")
        finally:
            await redis.aclose()
    assert (await run_row(sessions, run_id)).status == "finished"


async def test_a_key_recheck_the_exchange_does_not_answer_defers_the_live_run(
    worker_env, sessions, master_key
):
    # Naive: an unanswered key re-check (429, 5xx) fails the run for good, as a key that can
    # withdraw would; the customer's bot stays down until someone restarts it by hand.
    candles, config = _sim()
    async with running_sim(config) as sim:
        client = await live_client(sessions, sim.url, master_key)
        run_id = await ask_for_run(sessions, client, mode="live")
        # Refused (fail closed) until the exchange answers: never traded on a guess. The
        # check asks three times before it refuses.
        busy = {"kind": "429", "path": "/sapi/v1/account/apiRestrictions", "count": 3}
        await control(sim.url, "POST", "/_sim/faults", {"rules": [busy]})
        assert await enqueue(worker_env, client, run_id)
        async with in_process_worker(worker_env, options(sim.url), burst=True) as worker:
            pass
        faults = (await control(sim.url, "GET", "/_sim/state"))["faults"]
    assert worker.jobs_failed == 0
    assert worker.jobs_retried >= 1  # deferred, not failed
    row = await run_row(sessions, run_id)
    assert (row.status, row.stop_reason) == ("finished", "replay complete")
    await assert_backtest_fills(sessions, run_id, candles)
    assert faults["fired"]["429"] == 3


async def _edit_status(sessions: async_sessionmaker[AsyncSession], run_id: str) -> str | None:
    async with transaction(sessions) as session:
        return await session.scalar(
            select(RunRequest.status).where(
                RunRequest.run_id == run_id, RunRequest.action == RunAction.GRID.value
            )
        )


async def test_a_grid_edit_reaches_the_run_through_the_watcher(worker_env, sessions):
    """The run asks the database for edits only once the worker's watcher (one query for all
    its runs) saw one queued; the edit is then applied without stopping the run."""
    _candles, config = _sim(WINDOW.start + 1200)
    async with running_sim(config) as sim:
        client = await paper_client(sessions)
        run_id = await ask_for_run(sessions, client)
        assert await enqueue(worker_env, client, run_id)
        async with in_process_worker(worker_env, options(sim.url)) as worker:
            await eventually(lambda: _trading(sessions, run_id), what="the run to trade")
            handle = worker.ctx[STATE].runs[run_id]
            assert handle.edit_queued is False
            scope = ClientScope.of(client)
            async with client_transaction(sessions, scope) as session:
                edit = GridEdit(lower=94_700.0, upper=95_700.0, lines=6)
                await GridEditRequests(session, scope).record(run_id, "user", edit)

            async def applied() -> bool:
                return await _edit_status(sessions, run_id) == RequestStatus.DONE.value

            await eventually(applied, what="the edit to be applied")
            assert (await run_row(sessions, run_id)).status == "running"
