"""A worker's METRICS_PORT: a paper run's orders, fills, latencies and figures by client (its
run id only while it runs), and the fleet's gauges read from the database and the queue."""

from __future__ import annotations

import httpx
from arq.constants import in_progress_key_prefix
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.fixtures import free_port
from tests.venues.sim_fixtures import account, running_sim, sim_config
from tests.workers.fixtures import (
    WINDOW,
    ask_for_run,
    enqueue,
    eventually,
    in_process_worker,
    options,
    paper_client,
    run_row,
)
from tradebot.candles.io import bundled, load_candles
from tradebot.config import Settings
from tradebot.db import transaction
from tradebot.models.runs import BotOrder
from tradebot.venues.exchange_sim import MarketConfig
from tradebot.workers.fleet_metrics import refresh_fleet_gauges

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(port: int) -> Samples:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _sum(samples: Samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def _run_series(samples: Samples, run_id: str) -> set[str]:
    return {n for (n, ls), _ in samples.items() if ("run_id", run_id) in ls}


async def _filled_orders(sessions: async_sessionmaker[AsyncSession], run_id: str) -> int:
    async with transaction(sessions) as session:
        query = select(func.count()).where(
            BotOrder.run_id == run_id,  # type: ignore[arg-type]
            BotOrder.status == "filled",  # type: ignore[arg-type]
        )
        return int(await session.scalar(query) or 0)


async def test_a_paper_runs_figures_on_the_workers_metrics_port(
    worker_env: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    port = free_port()
    settings = worker_env.model_copy(update={"METRICS_PORT": port})
    candles = load_candles(bundled()).slice(WINDOW.start, WINDOW.stop)
    market = MarketConfig(maker_fee=0.0005, taker_fee=0.001)
    config = sim_config(candles, [account(usdt=2_000.0, btc=0.0)], market=market)
    async with running_sim(config) as sim:
        client = await paper_client(sessions)
        run_id = await ask_for_run(sessions, client)
        async with in_process_worker(settings, options(sim.url)):
            assert await enqueue(settings, client, run_id)

            async def run_series() -> set[str]:
                try:
                    return _run_series(_scrape(port), run_id)
                except httpx.TransportError:
                    return set()  # the worker is still starting

            while_running = await eventually(run_series, what="the run's own series")

            async def finished() -> bool:
                return (await run_row(sessions, run_id)).status == "finished"

            await eventually(finished, timeout=60, what="the run's end")
            after = _scrape(port)

    assert while_running == {
        "tradebot_run_pnl_usd",
        "tradebot_run_grid_profit_usd",
        "tradebot_run_open_orders",
        "tradebot_run_last_tick_timestamp_seconds",
    }
    assert _run_series(after, run_id) == set()  # gone with the run: run ids stay bounded
    submitted = _sum(after, "tradebot_orders_submitted_total", client_id=client)
    assert submitted > 0
    assert _sum(after, "tradebot_order_submit_ack_seconds_count", client_id=client) == submitted
    filled = _sum(after, "tradebot_orders_filled_total", client_id=client)
    assert filled == await _filled_orders(sessions, run_id) > 0
    assert _sum(after, "tradebot_order_submit_fill_seconds_count", client_id=client) == filled
    assert _sum(after, "tradebot_rate_limit_wait_seconds_count") >= 0
    assert ("tradebot_run_queue_depth", frozenset()) in after
    assert ("tradebot_run_queue_waiting", frozenset()) in after


async def test_the_fleet_gauges_count_runs_by_client_and_state_and_the_queue(
    worker_env: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    client = await paper_client(sessions)
    for status in ("created", "running", "running", "finished"):
        await ask_for_run(sessions, client, status=status)
    redis = Redis.from_url(worker_env.REDIS_URL)
    try:
        # Job ids are global to the Redis server: these are of this test's queue only.
        a, b, c = (f"{worker_env.RUN_QUEUE_NAME}-job-{n}" for n in "abc")
        await redis.zadd(worker_env.RUN_QUEUE_NAME, {a: 1, b: 2, c: 3})
        await refresh_fleet_gauges(sessions, redis, worker_env.RUN_QUEUE_NAME)
        counts = {
            state: REGISTRY.get_sample_value("tradebot_runs", {"client_id": client, "state": state})
            for state in ("created", "running", "finished")
        }
        assert counts == {"created": 1, "running": 2, "finished": 1}
        assert REGISTRY.get_sample_value("tradebot_run_queue_depth") == 3
        assert REGISTRY.get_sample_value("tradebot_run_queue_waiting") == 3

        # A worker takes job a: a run's job stays in the queue while it runs (the load the
        # autoscaler reads) and is no longer waiting (the backlog the alert reads).
        await redis.set(in_progress_key_prefix + a, b"1", px=60_000)
        await refresh_fleet_gauges(sessions, redis, worker_env.RUN_QUEUE_NAME)
        assert REGISTRY.get_sample_value("tradebot_run_queue_depth") == 3
        assert REGISTRY.get_sample_value("tradebot_run_queue_waiting") == 2

        await redis.zrem(worker_env.RUN_QUEUE_NAME, a, b)  # their runs ended
        await refresh_fleet_gauges(sessions, redis, worker_env.RUN_QUEUE_NAME)
        assert REGISTRY.get_sample_value("tradebot_run_queue_depth") == 1
        assert REGISTRY.get_sample_value("tradebot_run_queue_waiting") == 1
    finally:
        await redis.aclose()
