"""``GET /candles``: a pair's newest closed candles for the charts, from the exchange (here the
exchange simulator replaying the bundled week) through the venues' ccxt source."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.api.factories import customer
from tests.api.fixtures import free_port
from tests.venues.sim_fixtures import SimThread, demo_week, sim_config

START = 700
"""The simulator's market stands at the open of the demo week's candle 700."""


@pytest.fixture(scope="module")
def exchange() -> Iterator[SimThread]:
    with SimThread(sim_config(start_index=START)) as running:
        yield running


@pytest.fixture
async def market_api(
    make_client: Callable[..., Awaitable[httpx.AsyncClient]], exchange: SimThread
) -> httpx.AsyncClient:
    return await make_client(EXCHANGE_SANDBOX_URL=exchange.url)


async def _candles(
    api: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> httpx.Response:
    return await api.get("/candles", params={"pair": "BTC/USDT", **params}, headers=headers)


async def test_the_newest_closed_candles_in_unix_seconds(
    market_api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(market_api, login)
    response = await _candles(market_api, headers, timeframe="1m", limit=500)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["pair"], body["timeframe"], body["exchange"]) == ("BTC/USDT", "1m", "binance")
    week = demo_week()
    expected = range(START - 500, START)  # candle START is still forming: not a candle yet
    assert [c["time"] for c in body["candles"]] == [int(week.ts[i]) // 1000 for i in expected]
    last = body["candles"][-1]
    i = START - 1
    assert (last["open"], last["high"], last["low"], last["close"]) == pytest.approx(
        (week.open[i], week.high[i], week.low[i], week.close[i])
    )
    assert last["volume"] == pytest.approx(week.volume[i], rel=1e-6)
    default = (await _candles(market_api, headers)).json()
    assert (default["timeframe"], len(default["candles"])) == ("1m", 500)


async def test_longer_candles_are_the_exchanges_own(
    market_api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(market_api, login)
    body = (await _candles(market_api, headers, timeframe="5m", limit=3)).json()
    week = demo_week()
    first = int(week.ts[START - 15])  # 700 is a multiple of 5: the 5m candle at 700 is open
    assert [c["time"] for c in body["candles"]] == [(first + k * 300_000) // 1000 for k in range(3)]
    assert body["candles"][-1]["high"] == pytest.approx(max(week.high[START - 5 : START]))


async def test_unknown_pairs_timeframes_and_limits_are_422_problems(
    market_api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(market_api, login)
    unknown = await _candles(market_api, headers, pair="DOGE/EUR")
    assert (unknown.status_code, unknown.json()["type"]) == (422, "/problems/bad-input")
    assert "DOGE/EUR" in unknown.json()["detail"]
    for params in (
        {"timeframe": "7m"},
        {"limit": 0},
        {"limit": 1001},
        {"pair": "btc-usdt"},
        {"pair": ""},
    ):
        bad = await _candles(market_api, headers, **params)
        assert (bad.status_code, bad.json()["type"]) == (422, "/problems/validation"), params
    assert (await market_api.get("/candles", params={"pair": "BTC/USDT"})).status_code == 401


async def test_an_exchange_that_does_not_answer_is_a_503_problem(
    make_client: Callable[..., Awaitable[httpx.AsyncClient]],
    login: Callable[..., dict[str, str]],
) -> None:
    api = await make_client(EXCHANGE_SANDBOX_URL=f"http://127.0.0.1:{free_port()}")
    headers, _ = await customer(api, login)
    response = await _candles(api, headers)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
