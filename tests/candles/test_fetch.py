"""Candle fetch through ccxt against the simulator replaying real candles: paging, the cache,
gaps listed and never filled, retries, and the candle still open left out."""

from __future__ import annotations

from contextlib import asynccontextmanager

import numpy as np
import pytest

from tests.venues.sim_fixtures import control, demo_week, running_sim, sim_config
from tradebot.candles.fetch import CandleFetchError, fetch_candles
from tradebot.candles.model import Candles
from tradebot.errors import BadInputError
from tradebot.venues.ccxt_market_data import CcxtOhlcvSource, UnknownPairError
from tradebot.venues.retry import Backoff

TWO_DAYS = demo_week().slice(0, 2880)


@asynccontextmanager
async def _source(candles: Candles = TWO_DAYS, start_index: int | None = None):
    """A simulator whose history is ``candles`` (all of them unless ``start_index``), and a
    ccxt candle source pointed at it."""
    index = len(candles) if start_index is None else start_index
    async with running_sim(sim_config(candles, start_index=index)) as sim:
        source = CcxtOhlcvSource.open(
            "binance", sandbox_url=sim.url, backoff=Backoff(attempts=3, base_s=0.01)
        )
        try:
            yield sim, source
        finally:
            await source.close()


def _same(got: Candles, want: Candles) -> None:
    assert got.ts.tolist() == want.ts.tolist()
    for name in ("open", "high", "low", "close"):
        assert getattr(got, name).tolist() == getattr(want, name).tolist()
    np.testing.assert_allclose(got.volume, want.volume, rtol=1e-9)


def _klines(sim) -> int:
    return sim.sim.requests["GET /api/v3/klines"]


async def _klines_fail(sim, *faults: tuple[str, int]) -> None:
    rules = [{"kind": kind, "path": "/api/v3/klines", "count": n} for kind, n in faults]
    await control(sim.url, "POST", "/_sim/faults", {"rules": rules})


async def test_fetch_pages_through_the_range_and_equals_the_replayed_file(tmp_path):
    ts = TWO_DAYS.ts
    seen = []
    async with _source() as (sim, source):
        result = await fetch_candles(
            source,
            "BTC/USDT",
            "1m",
            int(ts[100]),
            int(ts[2600]),
            cache_root=tmp_path,
            progress=lambda d, t: seen.append((d, t)),
        )
    _same(result.candles, TWO_DAYS.slice(100, 2600))
    assert result.pages == _klines(sim) == 3  # 1000 + 1000 + 500
    assert result.report.fatal is None
    assert result.report.gaps == []
    assert seen[-1] == (2500, 2500)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


async def test_a_range_fetched_before_comes_from_the_cache_without_any_request(tmp_path):
    ts = TWO_DAYS.ts
    async with _source() as (sim, source):
        await fetch_candles(
            source, "BTC/USDT", "1m", int(ts[100]), int(ts[2600]), cache_root=tmp_path
        )
        asked = _klines(sim)
        again = await fetch_candles(
            source, "BTC/USDT", "1m", int(ts[500]), int(ts[1500]), cache_root=tmp_path
        )
        assert _klines(sim) == asked
        assert again.pages == 0
        _same(again.candles, TWO_DAYS.slice(500, 1500))
        wider = await fetch_candles(
            source, "BTC/USDT", "1m", int(ts[0]), int(ts[-1]) + 60_000, cache_root=tmp_path
        )
    assert wider.pages == _klines(sim) - asked == 2  # only the two missing ends
    _same(wider.candles, TWO_DAYS)


async def test_gaps_are_listed_never_filled_and_not_fetched_again(tmp_path):
    holed = np.r_[0:1000, 1030:2880]
    candles = Candles(
        TWO_DAYS.ts[holed],
        TWO_DAYS.open[holed],
        TWO_DAYS.high[holed],
        TWO_DAYS.low[holed],
        TWO_DAYS.close[holed],
        TWO_DAYS.volume[holed],
        60_000,
    )
    since, until = int(TWO_DAYS.ts[0]), int(TWO_DAYS.ts[-1]) + 60_000
    async with _source(candles) as (sim, source):
        result = await fetch_candles(source, "BTC/USDT", "1m", since, until, cache_root=tmp_path)
        asked = _klines(sim)
        again = await fetch_candles(source, "BTC/USDT", "1m", since, until, cache_root=tmp_path)
    assert len(result.candles) == 2850
    assert [(g.after_ts, g.before_ts, g.missing) for g in result.report.gaps] == [
        (int(TWO_DAYS.ts[999]), int(TWO_DAYS.ts[1030]), 30)
    ]
    assert (again.pages, _klines(sim)) == (0, asked)


async def test_the_candle_still_open_is_left_out_and_fetched_once_it_closes(tmp_path):
    since, until = int(TWO_DAYS.ts[0]), int(TWO_DAYS.ts[-1]) + 60_000
    async with _source(start_index=1000) as (sim, source):
        await control(sim.url, "POST", "/_sim/advance", {"segments": 2})  # candle 1000 half done
        early = await fetch_candles(source, "BTC/USDT", "1m", since, until, cache_root=tmp_path)
        await control(sim.url, "POST", "/_sim/advance", {"candles": 10})
        later = await fetch_candles(source, "BTC/USDT", "1m", since, until, cache_root=tmp_path)
    _same(early.candles, TWO_DAYS.slice(0, 1000))
    _same(later.candles, TWO_DAYS.slice(0, 1010))
    assert later.pages == 1


async def test_transient_failures_are_retried(tmp_path):
    ts = TWO_DAYS.ts
    async with _source() as (sim, source):
        await _klines_fail(sim, ("5xx", 1), ("garbage", 1))
        result = await fetch_candles(
            source, "BTC/USDT", "1m", int(ts[0]), int(ts[1200]), cache_root=tmp_path
        )
    _same(result.candles, TWO_DAYS.slice(0, 1200))
    assert _klines(sim) == 4  # two failures, then two pages


async def test_a_failure_that_outlasts_the_retries_is_one_error_and_caches_nothing(tmp_path):
    ts = TWO_DAYS.ts
    async with _source() as (sim, source):
        await _klines_fail(sim, ("5xx", 5))
        with pytest.raises(CandleFetchError, match="candles failed"):
            await fetch_candles(
                source, "BTC/USDT", "1m", int(ts[0]), int(ts[10]), cache_root=tmp_path
            )
    assert not list(tmp_path.rglob("*.parquet"))


async def test_an_unknown_pair_is_a_bad_input_error():
    async with _source() as (_, source):
        with pytest.raises(UnknownPairError, match="DOGE/EUR is not a pair on binance"):
            await fetch_candles(source, "DOGE/EUR", "1m", 0, 60_000)
        with pytest.raises(BadInputError, match="'7m'"):
            await fetch_candles(source, "BTC/USDT", "7m", 0, 60_000)
