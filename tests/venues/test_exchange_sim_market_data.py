"""Public market data through the real ccxt client: markets from the filters, klines that page
over the replayed file, a ticker that follows the replay position."""

from __future__ import annotations

import pytest

from tests.factories import make_candles
from tests.venues.sim_fixtures import ccxt_client, control, demo_week, running_sim, sim_config
from tradebot.venues.exchange_sim import MarketConfig


async def test_load_markets_gives_precision_and_limits_from_the_filters():
    market = MarketConfig()  # Binance's BTC/USDT filters
    async with running_sim(sim_config(market=market)) as sim, ccxt_client(sim.url) as exchange:
        markets = await exchange.load_markets()
    btc = markets["BTC/USDT"]
    assert list(markets) == ["BTC/USDT"]
    assert btc["precision"]["price"] == pytest.approx(0.01)
    assert btc["precision"]["amount"] == pytest.approx(0.00001)
    assert btc["limits"]["amount"]["min"] == pytest.approx(0.00001)
    assert btc["limits"]["cost"]["min"] == pytest.approx(5.0)
    assert btc["limits"]["price"] == {"min": 0.01, "max": 1_000_000.0}


async def test_load_markets_with_ccxts_default_options_is_answered_too():
    # By default ccxt also asks for futures markets, margin pairs and (with keys) currencies.
    defaults = {
        "fetchMarkets": {"types": ["spot", "linear", "inverse"]},
        "fetchMargins": True,
        "fetchCurrencies": True,
    }
    async with (
        running_sim() as sim,
        ccxt_client(sim.url, options=defaults) as exchange,
    ):
        markets = await exchange.load_markets()
        assert list(markets) == ["BTC/USDT"]
        assert {"BTC", "USDT"} <= set(exchange.currencies)
    asked = sim.sim.requests
    assert asked["GET /fapi/v1/exchangeInfo"] == asked["GET /dapi/v1/exchangeInfo"] == 1
    assert asked["GET /sapi/v1/capital/config/getall"] == 1


async def test_fetch_ohlcv_pages_over_more_than_1000_candles_and_equals_the_file():
    candles = demo_week().slice(0, 2500)
    config = sim_config(candles, start_index=len(candles))  # all of it is history
    async with running_sim(config) as sim, ccxt_client(sim.url) as exchange:
        rows, since = [], int(candles.ts[0])
        while True:
            page = await exchange.fetch_ohlcv("BTC/USDT", "1m", since=since, limit=1000)
            if not page:
                break
            assert len(page) <= 1000
            rows += page
            since = page[-1][0] + 60_000
    assert sim.sim.requests["GET /api/v3/klines"] == 4  # 1000 + 1000 + 500 + an empty page
    assert [r[0] for r in rows] == candles.ts.tolist()
    assert [r[1:5] for r in rows] == [
        list(v) for v in zip(candles.open, candles.high, candles.low, candles.close, strict=True)
    ]
    assert [r[5] for r in rows] == pytest.approx(candles.volume.tolist())


async def test_fetch_ohlcv_aggregates_longer_intervals():
    candles = demo_week().slice(0, 60)
    async with (
        running_sim(sim_config(candles, start_index=60)) as sim,
        ccxt_client(sim.url) as exchange,
    ):
        rows = await exchange.fetch_ohlcv("BTC/USDT", "5m", since=int(candles.ts[0]))
    assert len(rows) == 12
    assert rows[1] == [
        int(candles.ts[5]),
        candles.open[5],
        max(candles.high[5:10]),
        min(candles.low[5:10]),
        candles.close[9],
        pytest.approx(sum(candles.volume[5:10])),
    ]


async def test_klines_and_ticker_show_the_replay_up_to_the_current_candle_partial():
    # (open, high, low, close): a rising candle walks 100 -> 90 -> 120 -> 110.
    candles = make_candles([(100, 120, 90, 110), (110, 115, 105, 112)])
    async with running_sim(sim_config(candles)) as sim, ccxt_client(sim.url) as exchange:
        assert (await exchange.fetch_ticker("BTC/USDT"))["last"] == 100
        assert await exchange.fetch_ohlcv("BTC/USDT", "1m") == [
            [candles.ts[0], 100, 100, 100, 100, 0]
        ]
        await control(sim.url, "POST", "/_sim/advance", {"segments": 2})
        assert (await exchange.fetch_ticker("BTC/USDT"))["last"] == 120
        partial = await exchange.fetch_ohlcv("BTC/USDT", "1m")
        assert partial == [[candles.ts[0], 100, 120, 90, 120, pytest.approx(2 / 3)]]
        await control(sim.url, "POST", "/_sim/advance", {"segments": 1})
        closed = await exchange.fetch_ohlcv("BTC/USDT", "1m")
        assert closed == [
            [candles.ts[0], 100, 120, 90, 110, 1],
            [candles.ts[1], 110, 110, 110, 110, 0],
        ]
        ticker = await exchange.fetch_ticker("BTC/USDT")
    assert ticker["last"] == 110
    assert ticker["bid"] == 110
    assert ticker["ask"] == pytest.approx(110.01)
    assert ticker["timestamp"] == candles.ts[1]


async def test_stale_data_freezes_the_ticker_while_matching_goes_on():
    candles = make_candles([(100, 120, 90, 110), (110, 115, 105, 112)])
    async with running_sim(sim_config(candles)) as sim, ccxt_client(sim.url) as exchange:
        await control(sim.url, "POST", "/_sim/faults", {"stale": True})
        await control(sim.url, "POST", "/_sim/advance", {"candles": 1})
        ticker = await exchange.fetch_ticker("BTC/USDT")
        assert (ticker["last"], ticker["timestamp"]) == (100, candles.ts[0])
        assert sim.sim.market.price == 110  # the market itself moved on
        await control(sim.url, "POST", "/_sim/faults", {"stale": False})
        assert (await exchange.fetch_ticker("BTC/USDT"))["last"] == 110


async def test_public_trades_and_order_book_follow_the_walk():
    candles = make_candles([(100, 120, 90, 110)])
    async with running_sim(sim_config(candles)) as sim, ccxt_client(sim.url) as exchange:
        await control(sim.url, "POST", "/_sim/advance", {"to_end": True})
        trades = await exchange.fetch_trades("BTC/USDT")
        book = await exchange.fetch_order_book("BTC/USDT", limit=5)
    assert [t["price"] for t in trades] == [90, 120, 110]
    assert [t["timestamp"] for t in trades] == [
        candles.ts[0] + 20_000,
        candles.ts[0] + 40_000,
        candles.ts[0] + 59_999,
    ]
    assert book["bids"][0][0] == 110
    assert book["asks"][0][0] == pytest.approx(110.01)


async def test_an_unknown_symbol_is_refused_by_the_exchange():
    import ccxt

    async with running_sim() as sim, ccxt_client(sim.url) as exchange:
        with pytest.raises(ccxt.BadSymbol):
            await exchange.public_get_klines({"symbol": "ETHUSDT", "interval": "1m"})
        with pytest.raises(ccxt.BadSymbol):
            await exchange.fetch_ticker("ETH/USDT")  # ccxt itself knows the market is not listed
