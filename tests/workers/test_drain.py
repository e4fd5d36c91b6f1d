"""Scale-down: of two ``tradebot worker`` processes on one queue, the one driving a live run is
stopped with SIGTERM, as Kubernetes stops a pod KEDA removes. It drains within the grace period
of infra/k8s/worker.yaml, hands its lease back, and the worker that stays takes the run over
and finishes it: the fills are the backtest's, as if nothing happened, and the exchange never
saw an order twice.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest
import yaml
from redis.asyncio import Redis

from tests.runs.live_fixtures import live_client
from tests.venues.sim_fixtures import KEY, SimThread, account, control, sim_config
from tests.workers.fixtures import (
    WINDOW,
    ask_for_run,
    assert_backtest_fills,
    enqueue,
    eventually,
    fills_of,
    run_row,
    running_worker,
    worker_process,
)
from tradebot.candles.io import bundled, load_candles
from tradebot.venues.exchange_sim import MarketConfig
from tradebot.workers.lease import lease_key

pytestmark = pytest.mark.slow

WORKER_MANIFEST = Path(__file__).resolve().parents[2] / "infra" / "k8s" / "worker.yaml"


def _grace_period_s() -> int:
    (deployment,) = yaml.safe_load_all(WORKER_MANIFEST.read_text())
    return int(deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"])


async def _market(url: str) -> dict[str, int | bool]:
    market: dict[str, int | bool] = (await control(url, "GET", "/_sim/state"))["market"]
    return market


def _walked(market: dict[str, int | bool]) -> int:
    return int(market["candle"]) * 3 + int(market["segments_walked"])


async def test_a_worker_stopped_by_sigterm_hands_its_live_run_to_the_other_without_a_double_order(
    worker_env, sessions, master_key
):
    candles = load_candles(bundled()).slice(WINDOW.start, WINDOW.stop)
    market = MarketConfig(maker_fee=0.0005, taker_fee=0.001)
    sim = SimThread(sim_config(candles, [account(usdt=2_000.0, btc=0.0)], market=market))
    with sim:
        client = await live_client(sessions, sim.url, master_key)
        run_id = await ask_for_run(sessions, client, mode="live")
        assert await enqueue(worker_env, client, run_id)
        leaving = worker_process(worker_env, sim.url, master_key=master_key)
        try:
            await eventually(
                lambda: _trading(sim.url, 60), timeout=60, what="the first worker trading"
            )
        except BaseException:
            leaving.kill()
            leaving.communicate()
            raise
        with running_worker(worker_env, sim.url, master_key=master_key):
            await asyncio.sleep(3)  # the staying worker is up and polling the queue
            stopped_at = time.monotonic()
            leaving.send_signal(signal.SIGTERM)
            _out, err = await asyncio.to_thread(leaving.communicate, timeout=_grace_period_s())
            drained_s = time.monotonic() - stopped_at
            assert leaving.returncode == 0, err.decode()[-2000:]
            redis = Redis.from_url(worker_env.REDIS_URL)
            try:  # handed back, not left to expire
                assert not await redis.exists(lease_key(worker_env.REDIS_PREFIX, run_id))
            finally:
                await redis.aclose()
            walked = _walked(await _market(sim.url))
            await eventually(
                lambda: _trading(sim.url, walked + 3), timeout=30, what="the other worker trading"
            )
            resumed_s = time.monotonic() - stopped_at
            await eventually(lambda: _finished(sessions, run_id), timeout=120, what="the run's end")
        exchange = await control(sim.url, "GET", f"/_sim/accounts/{KEY}")
    print(f"drain: the leaving worker exited {drained_s:.2f} s after SIGTERM; the run traded "
          f"again {resumed_s:.2f} s after it")  # fmt: skip
    row = await run_row(sessions, run_id)
    assert (row.status, row.stop_reason) == ("finished", "replay complete")
    await assert_backtest_fills(sessions, run_id, candles)
    coids = [o["client_order_id"] for o in exchange["orders_detail"]]
    assert len(coids) == len(set(coids))
    assert exchange["duplicate_client_order_ids"] == {}
    traded = {f"BTC/USDT:{t['id']}" for t in exchange["trades_detail"]}
    assert {f.trade_id for f in await fills_of(sessions, run_id)} == traded


async def _trading(url: str, at_least: int) -> bool:
    market = await _market(url)
    return _walked(market) >= at_least or bool(market["done"])


async def _finished(sessions, run_id: str) -> bool:
    return (await run_row(sessions, run_id)).status == "finished"
