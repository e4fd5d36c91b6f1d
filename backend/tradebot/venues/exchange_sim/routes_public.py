"""Binance's public market data endpoints over the replayed market (weights as Binance's)."""

from __future__ import annotations

from typing import Any

from tradebot.candles.model import TIMEFRAMES_MS
from tradebot.venues.exchange_sim.dispatch import Call, Endpoint, weight
from tradebot.venues.exchange_sim.errors import (
    bad_decimal,
    illegal,
    invalid_interval,
    invalid_symbol,
    mandatory,
)
from tradebot.venues.exchange_sim.market import book_around
from tradebot.venues.exchange_sim.rules import symbol_info
from tradebot.venues.exchange_sim.wire import day_ticker, fmt

INTERVALS_MS = {
    **TIMEFRAMES_MS,
    "1s": 1_000,
    "8h": 28_800_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
}
"""Binance's kline intervals (all but 1M); a series answers those that are multiples of its own."""


def int_param(params: dict[str, str], name: str, default: int | None = None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_decimal(name) from None


def limit_param(params: dict[str, str], default: int, maximum: int) -> int:
    limit = int_param(params, "limit", default)
    assert limit is not None
    if not 1 <= limit <= maximum:
        raise illegal("limit", f"[1, {maximum}]")
    return limit


def check_symbol(call: Call, *, required: bool) -> bool:
    """Whether the request names our symbol; -1121 for any other, -1102 when one is required."""
    symbol = call.params.get("symbol")
    if symbol is None:
        if required:
            raise mandatory("symbol")
        return False
    if symbol != call.sim.config.market.market_id:
        raise invalid_symbol()
    return True


def _one_or_all(call: Call, item: dict[str, Any]) -> Any:
    return item if check_symbol(call, required=False) else [item]


def ping(_: Call) -> dict[str, Any]:
    return {}


def server_time(call: Call) -> dict[str, Any]:
    return {"serverTime": call.sim.server_time_ms()}


def exchange_info(call: Call) -> dict[str, Any]:
    check_symbol(call, required=False)
    limits = call.sim.config.limits
    return {
        "timezone": "UTC",
        "serverTime": call.sim.server_time_ms(),
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": limits.weight_limit,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "SECOND",
                "intervalNum": 10,
                "limit": limits.orders_per_10s,
            },
        ],
        "exchangeFilters": [],
        "symbols": [symbol_info(call.sim.config.market)],
    }


def derivatives_info(call: Call) -> dict[str, Any]:
    """USD-M and COIN-M futures: this exchange lists none (ccxt asks by default)."""
    return {
        "timezone": "UTC",
        "serverTime": call.sim.server_time_ms(),
        "rateLimits": [],
        "exchangeFilters": [],
        "assets": [],
        "symbols": [],
    }


def system_status(_: Call) -> dict[str, Any]:
    return {"status": 0, "msg": "normal"}


def klines(call: Call) -> list[list[object]]:
    check_symbol(call, required=True)
    name = call.params.get("interval")
    if not name:
        raise mandatory("interval")
    interval = INTERVALS_MS.get(name)
    base = call.sim.market.timeframe_ms
    if interval is None or interval < base or interval % base:
        raise invalid_interval()
    limit = limit_param(call.params, 500, 1000)
    start, end = int_param(call.params, "startTime"), int_param(call.params, "endTime")
    return call.sim.market.klines(call.sim.view, interval, start, end, limit)


def _book(call: Call) -> tuple[float, float]:
    return book_around(call.sim.market.price_at(call.sim.view), call.sim.config.market.tick_size)


def ticker_price(call: Call) -> Any:
    price = call.sim.market.price_at(call.sim.view)
    return _one_or_all(call, {"symbol": call.sim.config.market.market_id, "price": fmt(price)})


def ticker_24hr(call: Call) -> Any:
    stats = call.sim.market.day_stats(call.sim.view)
    bid, ask = _book(call)
    return _one_or_all(call, day_ticker(call.sim.config.market.market_id, stats, bid, ask))


def book_ticker(call: Call) -> Any:
    bid, ask = _book(call)
    item = {
        "symbol": call.sim.config.market.market_id,
        "bidPrice": fmt(bid),
        "bidQty": fmt(1.0),
        "askPrice": fmt(ask),
        "askQty": fmt(1.0),
    }
    return _one_or_all(call, item)


def depth(call: Call) -> dict[str, Any]:
    check_symbol(call, required=True)
    levels = min(limit_param(call.params, 100, 5000), 100)
    bid, ask = _book(call)
    tick = ask - bid
    return {
        "lastUpdateId": call.sim.market.now_ms,
        "bids": [[fmt(bid - k * tick), fmt(1.0)] for k in range(levels)],
        "asks": [[fmt(ask + k * tick), fmt(1.0)] for k in range(levels)],
    }


def _public_trades(call: Call) -> list[tuple[int, float, float, int, bool]]:
    check_symbol(call, required=True)
    limit = limit_param(call.params, 500, 1000)
    return call.sim.market.trades(call.sim.view, int_param(call.params, "startTime"), limit)


def trades(call: Call) -> list[dict[str, Any]]:
    return [
        {
            "id": tid,
            "price": fmt(price),
            "qty": fmt(qty),
            "quoteQty": fmt(price * qty),
            "time": ts,
            "isBuyerMaker": maker,
            "isBestMatch": True,
        }
        for tid, price, qty, ts, maker in _public_trades(call)
    ]


def agg_trades(call: Call) -> list[dict[str, Any]]:
    """GET /api/v3/aggTrades (ccxt's fetchTrades): each synthetic trade is its own aggregate."""
    return [
        {
            "a": tid,
            "p": fmt(price),
            "q": fmt(qty),
            "f": tid,
            "l": tid,
            "T": ts,
            "m": maker,
            "M": True,
        }
        for tid, price, qty, ts, maker in _public_trades(call)
    ]


def avg_price(call: Call) -> dict[str, Any]:
    check_symbol(call, required=True)
    return {
        "mins": 5,
        "price": fmt(call.sim.market.price_at(call.sim.view)),
        "closeTime": call.sim.market.time_at(call.sim.view),
    }


def _depth_weight(params: dict[str, str]) -> int:
    raw = params.get("limit", "")
    limit = int(raw) if raw.isdigit() else 100
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


PUBLIC = [
    Endpoint("GET", "/api/v3/ping", ping, weight(1)),
    Endpoint("GET", "/api/v3/time", server_time, weight(1)),
    Endpoint("GET", "/api/v3/exchangeInfo", exchange_info, weight(20)),
    Endpoint("GET", "/api/v3/klines", klines, weight(2)),
    Endpoint("GET", "/api/v3/uiKlines", klines, weight(2)),
    Endpoint("GET", "/api/v3/ticker/price", ticker_price, weight(2, without_symbol=4)),
    Endpoint("GET", "/api/v3/ticker/24hr", ticker_24hr, weight(2, without_symbol=80)),
    Endpoint("GET", "/api/v3/ticker/bookTicker", book_ticker, weight(2, without_symbol=4)),
    Endpoint("GET", "/api/v3/depth", depth, _depth_weight),
    Endpoint("GET", "/api/v3/trades", trades, weight(25)),
    Endpoint("GET", "/api/v3/aggTrades", agg_trades, weight(4)),
    Endpoint("GET", "/api/v3/avgPrice", avg_price, weight(2)),
    Endpoint("GET", "/fapi/v1/exchangeInfo", derivatives_info, weight(1)),
    Endpoint("GET", "/dapi/v1/exchangeInfo", derivatives_info, weight(1)),
    Endpoint("GET", "/sapi/v1/system/status", system_status, weight(1)),
]
