"""Real ``tradebot worker`` processes sharing one queue: one dies or is told to stop mid-run,
another takes the run over through its lease and reconciliation.

The simulator is stepped by the run's feed, so the market waits while no worker is alive and
the final fills can be held to the backtest's, as if the run had never been interrupted.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from typing import Any

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
    paper_client,
    run_row,
    worker_process,
)
from tradebot.candles.io import bundled, load_candles
from tradebot.candles.model import Candles
from tradebot.venues.exchange_sim import MarketConfig
from tradebot.workers.lease import lease_key


def _sim() -> tuple[Candles, SimThread]:
    candles = load_candles(bundled()).slice(WINDOW.start, WINDOW.stop)
    market = MarketConfig(maker_fee=0.0005, taker_fee=0.001)
    return candles, SimThread(sim_config(candles, [account(usdt=2_000.0, btc=0.0)], market=market))


async def _walked(url: str, at_least: int) -> bool:
    market = (await control(url, "GET", "/_sim/state"))["market"]
    return bool(market["candle"] * 3 + market["segments_walked"] >= at_least or market["done"])


async def test_a_worker_killed_mid_run_loses_its_lease_and_another_resumes_the_run(
    worker_env, sessions, master_key
):
    candles, sim = _sim()
    with sim:
        client = await live_client(sessions, sim.url, master_key)
        run_id = await ask_for_run(sessions, client, mode="live")
        assert await enqueue(worker_env, client, run_id)
        first = worker_process(worker_env, sim.url, master_key=master_key)
        try:
            await eventually(lambda: _walked(sim.url, 60), timeout=60, what="trading")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        assert (await run_row(sessions, run_id)).status == "running"
        killed_at = time.monotonic()
        second = worker_process(worker_env, sim.url, "--burst", master_key=master_key)
        _out, err = await asyncio.to_thread(second.communicate, timeout=120)
        assert second.returncode == 0, err.decode()[-2000:]
        exchange = await control(sim.url, "GET", f"/_sim/accounts/{KEY}")
    row = await run_row(sessions, run_id)
    assert (row.status, row.stop_reason) == ("finished", "replay complete")
    assert time.monotonic() - killed_at >= 1.0  # taken over only once the lease ran out
    await assert_backtest_fills(sessions, run_id, candles)
    coids = [o["client_order_id"] for o in exchange["orders_detail"]]
    assert len(coids) == len(set(coids))
    assert exchange["duplicate_client_order_ids"] == {}
    traded = {f"BTC/USDT:{t['id']}" for t in exchange["trades_detail"]}
    assert {f.trade_id for f in await fills_of(sessions, run_id)} == traded


LEASE = ("--lease-seconds", "60")
"""A lease of a minute: a run taken sooner was taken because its worker was seen dead."""


async def _killed_while_trading(
    env: Any, sessions: Any, master_key: str, sim: SimThread, *peers: str
) -> tuple[str, float, list[subprocess.Popen[bytes]]]:
    """A live run driven by the named worker ``w-0``, SIGKILLed once it trades, with named
    ``peers`` started beside it: the run, when it was killed, the peers' processes."""
    client = await live_client(sessions, sim.url, master_key)
    run_id = await ask_for_run(sessions, client, mode="live")
    assert await enqueue(env, client, run_id)
    first = worker_process(env, sim.url, *LEASE, master_key=master_key, name="w-0")
    others = [
        worker_process(env, sim.url, *LEASE, master_key=master_key, name=name) for name in peers
    ]
    try:
        await eventually(lambda: _walked(sim.url, 60), timeout=60, what="trading")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    return run_id, time.monotonic(), others


async def test_a_worker_killed_and_restarted_under_its_name_takes_its_run_back_at_once(
    worker_env, sessions, master_key
):
    # Without a name, the run would wait for its lease (a minute here) and arq's marker of
    # the job (another minute) before any worker could take it.
    candles, sim = _sim()
    with sim:
        run_id, killed_at, _ = await _killed_while_trading(worker_env, sessions, master_key, sim)
        again = worker_process(
            worker_env, sim.url, "--burst", *LEASE, master_key=master_key, name="w-0"
        )
        _out, err = await asyncio.to_thread(again.communicate, timeout=120)
        assert again.returncode == 0, err.decode()[-2000:]
        finished_in = time.monotonic() - killed_at
        exchange = await control(sim.url, "GET", f"/_sim/accounts/{KEY}")
    row = await run_row(sessions, run_id)
    assert (row.status, row.stop_reason) == ("finished", "replay complete")
    assert finished_in < 60  # taken back, not waited for
    await assert_backtest_fills(sessions, run_id, candles)
    assert exchange["duplicate_client_order_ids"] == {}


async def test_a_live_peer_takes_the_run_of_a_killed_worker_at_once(
    worker_env, sessions, master_key
):
    # Without the peer watching, the run would wait for its lease (a minute here) and arq's
    # marker of the job (another minute), or for its worker to come back under its name.
    candles, sim = _sim()
    with sim:
        run_id, killed_at, (peer,) = await _killed_while_trading(
            worker_env, sessions, master_key, sim, "w-1"
        )
        try:
            walked = (await control(sim.url, "GET", "/_sim/state"))["market"]
            at = walked["candle"] * 3 + walked["segments_walked"]
            await eventually(lambda: _walked(sim.url, at + 3), timeout=30, what="taken over")
            resumed_in = time.monotonic() - killed_at

            async def finished() -> bool:
                return (await run_row(sessions, run_id)).status == "finished"

            await eventually(finished, timeout=120, what="the run finished by the peer")
            exchange = await control(sim.url, "GET", f"/_sim/accounts/{KEY}")
        finally:
            peer.terminate()
            _out, err = await asyncio.to_thread(peer.communicate, timeout=30)
    assert peer.returncode == 0, err.decode()[-2000:]
    assert resumed_in < 15  # seconds, where the lease alone would have been minutes
    row = await run_row(sessions, run_id)
    assert row.stop_reason == "replay complete"
    await assert_backtest_fills(sessions, run_id, candles)
    assert exchange["duplicate_client_order_ids"] == {}


async def test_sigterm_hands_the_run_over_after_its_tick_and_the_next_worker_finishes_it(
    worker_env, sessions
):
    candles, sim = _sim()
    with sim:
        client = await paper_client(sessions)
        run_id = await ask_for_run(sessions, client)
        assert await enqueue(worker_env, client, run_id)
        first = worker_process(worker_env, sim.url)
        await eventually(lambda: _walked(sim.url, 60), timeout=60, what="trading")
        first.send_signal(signal.SIGTERM)
        _out, err = await asyncio.to_thread(first.communicate, timeout=30)
        assert first.returncode == 0, err.decode()[-2000:]
        row = await run_row(sessions, run_id)
        assert (row.status, row.stop_reason) == ("running", None)  # waiting for a worker
        redis = Redis.from_url(worker_env.REDIS_URL)
        try:
            assert not await redis.exists(lease_key(worker_env.REDIS_PREFIX, run_id))
        finally:
            await redis.aclose()
        assert not (await control(sim.url, "GET", "/_sim/state"))["market"]["done"]
        second = worker_process(worker_env, sim.url, "--burst")
        _out, err = await asyncio.to_thread(second.communicate, timeout=120)
        assert second.returncode == 0, err.decode()[-2000:]
    row = await run_row(sessions, run_id)
    assert (row.status, row.stop_reason) == ("finished", "replay complete")
    await assert_backtest_fills(sessions, run_id, candles)
