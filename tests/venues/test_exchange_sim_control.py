"""The simulator's control endpoints, its real-time clock, and running it on a thread."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import aiohttp
import pytest

from tests.factories import make_candles
from tests.venues.sim_fixtures import SimThread, ccxt_client, control, running_sim, sim_config

CANDLES = make_candles([(100, 120, 90, 110), (110, 115, 95, 100), (100, 104, 99, 103)])


async def test_advance_walks_segments_candles_and_to_the_end():
    async with running_sim(sim_config(CANDLES)) as sim:
        state = await control(sim.url, "POST", "/_sim/advance", {"segments": 2})
        assert (state["walked"], state["candle"], state["segments_walked"], state["price"]) == (
            2,
            0,
            2,
            120,
        )
        state = await control(sim.url, "POST", "/_sim/advance", {"candles": 1})
        assert (state["walked"], state["candle"], state["price"]) == (1, 1, 110)
        state = await control(sim.url, "POST", "/_sim/advance", {"to_end": True})
        assert (state["walked"], state["done"], state["price"]) == (6, True, 103)
        state = await control(sim.url, "POST", "/_sim/advance", {"segments": 5})
        assert state["walked"] == 0


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/_sim/advance", {}, 400),
        ("POST", "/_sim/advance", {"segments": -1}, 400),
        ("POST", "/_sim/advance", {"candles": "many"}, 400),
        ("POST", "/_sim/clock", {"speed": -2}, 400),
        ("GET", "/_sim/accounts/nobody", None, 404),
        ("POST", "/_sim/accounts/sim-test-key/permissions", {"canFly": True}, 400),
        ("POST", "/_sim/accounts", {"api_key": "x"}, 400),
        ("POST", "/_sim/accounts", {"api_key": "sim-test-key", "secret": "s"}, 400),
    ],
)
async def test_bad_control_requests_are_refused_with_a_reason(method, path, body, status):
    async with (
        running_sim(sim_config(CANDLES)) as sim,
        aiohttp.ClientSession() as session,
        session.request(method, sim.url + path, json=body) as response,
    ):
        assert response.status == status
        assert (await response.json())["error"]


async def test_an_account_added_at_run_time_can_trade():
    async with running_sim(sim_config(CANDLES)) as sim:
        await control(
            sim.url,
            "POST",
            "/_sim/accounts",
            {
                "api_key": "late",
                "secret": "late-secret",
                "balances": {"USDT": 1000},
            },
        )
        async with ccxt_client(sim.url, "late", "late-secret") as exchange:
            await exchange.create_order("BTC/USDT", "limit", "buy", 1, 95)
            await control(sim.url, "POST", "/_sim/advance", {"segments": 1})
        detail = await control(sim.url, "GET", "/_sim/accounts/late")
    assert [(o["price"], o["status"]) for o in detail["orders_detail"]] == [(95.0, "FILLED")]
    assert detail["balances"]["BTC"]["free"] == pytest.approx(1 - 0.001)  # the fee, in base


async def test_the_real_time_clock_walks_at_its_speed_and_pauses():
    # 1m candles at speed 600: one segment every 1/30 s.
    async with running_sim(sim_config(CANDLES, speed=600)) as sim:
        await asyncio.sleep(0.2)
        assert sim.sim.market.position.index >= 1
        await control(sim.url, "POST", "/_sim/clock", {"speed": 0})
        paused = sim.sim.market.position
        await asyncio.sleep(0.15)
        assert sim.sim.market.position == paused


async def test_state_counts_requests_by_endpoint_and_key():
    async with running_sim(sim_config(CANDLES)) as sim, ccxt_client(sim.url) as exchange:
        await exchange.fetch_balance()
        state = await control(sim.url, "GET", "/_sim/state")
        assert state["requests"]["GET /api/v3/account"] == 1
        assert state["requests_by_key"] == {"sim-test-key": 1}
        await control(sim.url, "POST", "/_sim/reset_limits")
        assert (await control(sim.url, "GET", "/_sim/state"))["requests"] == {}


def _get(url: str) -> object:
    with urllib.request.urlopen(url) as response:
        return json.load(response)


def _post(url: str, body: dict) -> object:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def test_a_simulator_on_a_thread_serves_a_synchronous_caller():
    with SimThread(sim_config(CANDLES)) as running:
        price = _get(running.url + "/api/v3/ticker/price?symbol=BTCUSDT")
        assert price == {"symbol": "BTCUSDT", "price": "100.00000000"}
        assert _post(running.url + "/_sim/advance", {"candles": 1})["walked"] == 3


def test_sim_thread_call_runs_on_the_simulators_loop():
    thread = SimThread(sim_config(CANDLES))
    with thread:
        assert thread.call(lambda sim: sim.advance(2)) == 2
        assert thread.call(lambda sim: sim.market.price) == 120
