"""The candle service asks the exchange once per series and few seconds, however many callers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from tradebot.errors import BadInputError
from tradebot.markets.service import MAX_CANDLES, CandleService


class CountingSource:
    """An exchange whose every candle request is counted (and takes a moment)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, int]] = []
        self.closed = False

    async def recent(self, pair: str, timeframe: str, count: int) -> Sequence[Sequence[float]]:
        self.requests.append((pair, timeframe, count))
        await asyncio.sleep(0.01)
        return [[60_000.0 * i, 1.0, 2.0, 0.5, 1.5, 10.0 + i] for i in range(count)]

    async def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_many_callers_share_one_request_until_it_expires() -> None:
    source, clock = CountingSource(), Clock()
    service = CandleService(lambda _exchange: source, "binance", ttl_s=5.0, clock=clock)
    answers = await asyncio.gather(
        *(service.recent("BTC/USDT", "1m", limit) for limit in (500, 10, 1000, 500))
    )
    assert source.requests == [("BTC/USDT", "1m", MAX_CANDLES)]
    assert [len(a.candles) for a in answers] == [500, 10, 1000, 500]
    assert answers[1].candles[-1].time == 60 * (MAX_CANDLES - 1)  # the newest, in seconds
    await service.recent("ETH/USDT", "1m", 5)
    await service.recent("BTC/USDT", "5m", 5)
    assert len(source.requests) == 3  # one per series
    clock.now = 4.9
    await service.recent("BTC/USDT", "1m", 5)
    assert len(source.requests) == 3
    clock.now = 5.1
    await service.recent("BTC/USDT", "1m", 5)
    assert len(source.requests) == 4
    await service.close()
    assert source.closed


async def test_a_limit_out_of_range_is_refused_before_any_request() -> None:
    source = CountingSource()
    service = CandleService(lambda _exchange: source, "binance")
    for limit in (0, MAX_CANDLES + 1):
        with pytest.raises(BadInputError):
            await service.recent("BTC/USDT", "1m", limit)
    assert source.requests == []
