"""Each injected fault, as the real ccxt client meets it, and what is left on the exchange."""

from __future__ import annotations

import asyncio

import ccxt
import pytest

from tests.venues.sim_fixtures import (
    KEY,
    OTHER_KEY,
    OTHER_SECRET,
    account,
    ccxt_client,
    control,
    running_sim,
    sim_config,
)
from tradebot.venues.ccxt_errors import OrderUnknownError, UnreachableError, translate

ORDER = "/api/v3/order"


async def _fault(sim, **rule):
    await control(sim.url, "POST", "/_sim/faults", {"rules": [rule]})


async def test_a_5xx_is_exchange_not_available_and_the_next_request_succeeds():
    async with running_sim() as sim, ccxt_client(sim.url) as exchange:
        await exchange.load_markets()
        await _fault(sim, kind="5xx", path="/api/v3/ticker/24hr", status=502)
        with pytest.raises(ccxt.ExchangeNotAvailable, match="502") as caught:
            await exchange.fetch_ticker("BTC/USDT")
        assert (await exchange.fetch_ticker("BTC/USDT"))["last"] > 0
    assert isinstance(translate(caught.value), UnreachableError)


async def test_a_held_answer_is_a_request_timeout():
    async with running_sim() as sim, ccxt_client(sim.url, timeout_ms=300) as exchange:
        await exchange.load_markets()
        await _fault(sim, kind="timeout", path="/api/v3/ticker/24hr", hold_s=5)
        with pytest.raises(ccxt.RequestTimeout):
            await exchange.fetch_ticker("BTC/USDT")


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ({"kind": "drop"}, ccxt.ExchangeNotAvailable),
        ({"kind": "5xx", "status": 503}, ccxt.ExchangeNotAvailable),
        ({"kind": "timeout", "hold_s": 5}, ccxt.RequestTimeout),
        ({"kind": "garbage"}, ccxt.BadResponse),
    ],
)
async def test_an_answer_lost_after_the_order_was_accepted_leaves_the_order_on_the_exchange(
    rule, error
):
    async with running_sim() as sim, ccxt_client(sim.url, timeout_ms=300) as exchange:
        await exchange.load_markets()
        await _fault(sim, **rule, phase="after", path=ORDER, method="POST")
        with pytest.raises(error) as caught:
            await exchange.create_order(
                "BTC/USDT", "limit", "buy", 0.01, 90_000, {"clientOrderId": "lost-answer-1"}
            )
        assert translate(caught.value).order_state_unknown  # so: query, never resend blindly
        found = await exchange.fetch_order(None, "BTC/USDT", {"clientOrderId": "lost-answer-1"})
    assert (found["status"], found["price"], found["amount"]) == ("open", 90_000, 0.01)
    assert sim.sim.state()["accounts"][KEY]["orders"] == 1


async def test_a_fault_before_the_exchange_leaves_no_order():
    async with running_sim() as sim, ccxt_client(sim.url, timeout_ms=300) as exchange:
        await exchange.load_markets()
        await _fault(sim, kind="drop", path=ORDER, method="POST")
        with pytest.raises(ccxt.NetworkError):
            await exchange.create_order(
                "BTC/USDT", "limit", "buy", 0.01, 90_000, {"clientOrderId": "c1"}
            )
        with pytest.raises(ccxt.OrderNotFound):
            await exchange.fetch_order(None, "BTC/USDT", {"clientOrderId": "c1"})


async def test_a_blind_resend_after_a_dropped_instant_fill_creates_a_second_order():
    # Why the venue must query before resending: Binance refuses a duplicate client order id
    # only while the first order is open, and this one filled at once.
    async with running_sim() as sim, ccxt_client(sim.url) as exchange:
        await exchange.load_markets()
        await _fault(sim, kind="drop", phase="after", path=ORDER, method="POST", fill=True)
        params = {"clientOrderId": "instant-1"}
        with pytest.raises(ccxt.NetworkError):
            await exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 97_000, params)
        first = await exchange.fetch_order(None, "BTC/USDT", params)
        assert first["status"] == "closed"
        await exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 97_000, params)  # naive
    state = sim.sim.state()["accounts"][KEY]
    assert state["duplicate_client_order_ids"] == {"instant-1": 2}


async def test_a_new_order_is_not_found_during_the_visibility_lag():
    async with running_sim() as sim, ccxt_client(sim.url) as exchange:
        await control(sim.url, "POST", "/_sim/faults", {"visibility_lag_s": 0.3})
        order = await exchange.create_order(
            "BTC/USDT", "limit", "buy", 0.01, 90_000, {"clientOrderId": "fresh-1"}
        )
        with pytest.raises(ccxt.OrderNotFound) as caught:
            await exchange.fetch_order(None, "BTC/USDT", {"clientOrderId": "fresh-1"})
        assert isinstance(translate(caught.value), OrderUnknownError)
        assert await exchange.fetch_open_orders("BTC/USDT") == []
        await asyncio.sleep(0.35)
        found = await exchange.fetch_order(None, "BTC/USDT", {"clientOrderId": "fresh-1"})
        assert found["id"] == order["id"]
        assert len(await exchange.fetch_open_orders("BTC/USDT")) == 1


async def test_garbage_json_is_a_bad_response():
    async with running_sim() as sim, ccxt_client(sim.url) as exchange:
        await exchange.load_markets()
        await _fault(sim, kind="garbage", path="/api/v3/ticker/24hr")
        with pytest.raises(ccxt.BadResponse, match="not JSON"):
            await exchange.fetch_ticker("BTC/USDT")
        await _fault(sim, kind="garbage", phase="after", path="/api/v3/klines")
        with pytest.raises(ccxt.BadResponse):
            await exchange.fetch_ohlcv("BTC/USDT", "1m")


async def test_a_429_burst_answers_rate_limit_then_clears():
    async with running_sim() as sim, ccxt_client(sim.url) as exchange:
        await _fault(sim, kind="429", count=2, retry_after_s=3)
        for _ in range(2):
            with pytest.raises(ccxt.DDoSProtection, match="429"):
                await exchange.public_get_ping()
            assert exchange.last_response_headers["Retry-After"] == "3"
        assert await exchange.public_get_ping() == {}


async def test_a_probabilistic_fault_fails_the_same_requests_for_the_same_seed():
    async def pattern() -> list[bool]:
        async with running_sim() as sim, ccxt_client(sim.url) as exchange:
            await _fault(sim, kind="5xx", path="/api/v3/ping", probability=0.5, seed=7)
            failed = []
            for _ in range(20):
                try:
                    await exchange.public_get_ping()
                    failed.append(False)
                except ccxt.ExchangeNotAvailable:
                    failed.append(True)
            return failed

    first, second = await pattern(), await pattern()
    assert first == second
    assert 3 <= sum(first) <= 17


async def test_a_fault_for_one_api_key_leaves_the_other_tenants_alone():
    config = sim_config(accounts=[account(), account(OTHER_KEY, OTHER_SECRET)])
    async with (
        running_sim(config) as sim,
        ccxt_client(sim.url) as mine,
        ccxt_client(sim.url, OTHER_KEY, OTHER_SECRET) as theirs,
    ):
        await _fault(sim, kind="5xx", path="/api/v3/account", api_key=OTHER_KEY)
        assert (await mine.fetch_balance())["USDT"]["total"] == 100_000
        with pytest.raises(ccxt.ExchangeNotAvailable):
            await theirs.fetch_balance()


async def test_faults_are_listed_and_cleared_through_control():
    async with running_sim() as sim:
        await _fault(sim, kind="5xx", count=3)
        state = await control(sim.url, "GET", "/_sim/faults")
        assert [(r["kind"], r["count"]) for r in state["rules"]] == [("5xx", 3)]
        cleared = await control(sim.url, "DELETE", "/_sim/faults")
        assert cleared["rules"] == []
        with pytest.raises(AssertionError, match="400"):
            await control(sim.url, "POST", "/_sim/faults", {"rules": [{"kind": "meteor"}]})
