"""Binance's WebSocket event shapes: the market streams' events and the user-data stream's
``executionReport`` and ``outboundAccountPosition`` (numbers as strings, ids and times as
integers, as Binance sends them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradebot.engine.types import FeeAsset, Side
from tradebot.venues.exchange_sim.wire import OrderMeta, day_ticker, fmt
from tradebot.venues.matching import SimOrder, SimTrade


def trade_event(
    symbol: str, trade_id: int, price: float, qty: float, ts: int, buyer_maker: bool
) -> dict[str, Any]:
    """``<symbol>@trade``."""
    return {
        "e": "trade",
        "E": ts,
        "s": symbol,
        "t": trade_id,
        "p": fmt(price),
        "q": fmt(qty),
        "T": ts,
        "m": buyer_maker,
        "M": True,
    }


def agg_trade_event(
    symbol: str, trade_id: int, price: float, qty: float, ts: int, buyer_maker: bool
) -> dict[str, Any]:
    """``<symbol>@aggTrade``: each synthetic trade is its own aggregate, as in REST."""
    return {
        "e": "aggTrade",
        "E": ts,
        "s": symbol,
        "a": trade_id,
        "p": fmt(price),
        "q": fmt(qty),
        "f": trade_id,
        "l": trade_id,
        "T": ts,
        "m": buyer_maker,
        "M": True,
    }


def mini_ticker_event(symbol: str, stats: dict[str, float | int]) -> dict[str, Any]:
    """``<symbol>@miniTicker`` from the rolling 24 hours (``MarketReplay.day_stats``)."""
    return {
        "e": "24hrMiniTicker",
        "E": int(stats["close_time"]),
        "s": symbol,
        "c": fmt(stats["last"]),
        "o": fmt(stats["open"]),
        "h": fmt(stats["high"]),
        "l": fmt(stats["low"]),
        "v": fmt(stats["volume"]),
        "q": fmt(stats["quote_volume"]),
    }


_TICKER_NAMES = {
    "symbol": "s", "priceChange": "p", "priceChangePercent": "P", "weightedAvgPrice": "w",
    "prevClosePrice": "x", "lastPrice": "c", "lastQty": "Q", "bidPrice": "b", "bidQty": "B",
    "askPrice": "a", "askQty": "A", "openPrice": "o", "highPrice": "h", "lowPrice": "l",
    "volume": "v", "quoteVolume": "q", "openTime": "O", "closeTime": "C", "firstId": "F",
    "lastId": "L", "count": "n",
}  # fmt: skip
"""GET /api/v3/ticker/24hr's names -> the ``@ticker`` event's."""


def ticker_event(
    symbol: str, stats: dict[str, float | int], bid: float, ask: float
) -> dict[str, Any]:
    """``<symbol>@ticker``: the same numbers as GET /api/v3/ticker/24hr."""
    rest = day_ticker(symbol, stats, bid, ask)
    named = {short: rest[name] for name, short in _TICKER_NAMES.items()}
    return {"e": "24hrTicker", "E": int(stats["close_time"]), **named}


def book_ticker_event(symbol: str, update_id: int, bid: float, ask: float) -> dict[str, Any]:
    """``<symbol>@bookTicker`` (it has no event type or time on spot)."""
    return {"u": update_id, "s": symbol, "b": fmt(bid), "B": fmt(1.0), "a": fmt(ask), "A": fmt(1.0)}


def execution_report(
    symbol: str,
    order: SimOrder,
    meta: OrderMeta,
    execution: str,
    status: str,
    filled: float,
    execution_id: int,
    now_ms: int,
    fee_assets: Mapping[FeeAsset, str],
    trade: SimTrade | None = None,
) -> dict[str, Any]:
    """One ``executionReport``: ``execution`` is NEW, TRADE, CANCELED, REJECTED or EXPIRED,
    ``status`` and ``filled`` the order's status and executed quantity after it, ``trade`` the
    fill a TRADE reports, its commission in the asset it was paid in (as myTrades says)."""
    return {
        "e": "executionReport",
        "E": now_ms,
        "s": symbol,
        "c": order.client_order_id,
        "S": "BUY" if order.side is Side.BUY else "SELL",
        "o": meta.type,
        "f": meta.time_in_force,
        "q": fmt(order.qty),
        "p": fmt(meta.limit_price),
        "P": fmt(0.0),
        "F": fmt(0.0),
        "g": -1,
        "C": order.client_order_id if execution == "CANCELED" else "",
        "x": execution,
        "X": status,
        "r": "NONE",
        "i": order.order_id,
        "l": fmt(trade.qty if trade else 0.0),
        "z": fmt(filled),
        "L": fmt(trade.price if trade else 0.0),
        "n": fmt(trade.fee) if trade else "0",
        "N": fee_assets[trade.fee_asset] if trade else None,
        "T": trade.ts if trade else now_ms,
        "t": trade.trade_id if trade else -1,
        "I": execution_id,
        "w": status in ("NEW", "PARTIALLY_FILLED"),
        "m": trade.maker if trade else False,
        "M": trade is not None,
        "O": order.created_ts,
        "Z": fmt(filled * order.price),
        "Y": fmt(trade.qty * trade.price if trade else 0.0),
        "Q": fmt(meta.orig_quote_qty),
        "W": order.created_ts,
        "V": "EXPIRE_MAKER",
    }


def account_position(now_ms: int, balances: list[dict[str, str]]) -> dict[str, Any]:
    """``outboundAccountPosition``: the balances an event changed (here: the pair's two)."""
    return {
        "e": "outboundAccountPosition",
        "E": now_ms,
        "u": now_ms,
        "B": [{"a": b["asset"], "f": b["free"], "l": b["locked"]} for b in balances],
    }
