"""Binance's JSON shapes for orders and trades (numbers as strings with 8 decimals)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradebot.engine.types import FeeAsset, Side
from tradebot.venues.matching import SimOrder, SimStatus, SimTrade


def fmt(value: float | np.floating[Any]) -> str:
    return f"{float(value):.8f}"


@dataclass(slots=True)
class OrderMeta:
    """What Binance reports about an order that the matching engine does not keep."""

    type: str
    """LIMIT, LIMIT_MAKER or MARKET, as sent."""
    time_in_force: str
    limit_price: float
    """The price sent (0 for a market order); a marketable fill may trade elsewhere."""
    orig_quote_qty: float
    created_wall: float
    """Monotonic wall time of acceptance: the visibility lag counts from here."""


def day_ticker(
    symbol: str, stats: Mapping[str, float | int], bid: float, ask: float
) -> dict[str, Any]:
    """The rolling day's figures as GET /api/v3/ticker/24hr answers them (the ``@ticker``
    stream sends the same numbers under short names)."""
    last, first = float(stats["last"]), float(stats["open"])
    volume, quote_volume = float(stats["volume"]), float(stats["quote_volume"])
    return {
        "symbol": symbol,
        "priceChange": fmt(last - first),
        "priceChangePercent": f"{(last - first) / first * 100 if first else 0.0:.3f}",
        "weightedAvgPrice": fmt(quote_volume / volume if volume else last),
        "prevClosePrice": fmt(stats["prev_close"]),
        "lastPrice": fmt(last),
        "lastQty": fmt(0.001),
        "bidPrice": fmt(bid),
        "bidQty": fmt(1.0),
        "askPrice": fmt(ask),
        "askQty": fmt(1.0),
        "openPrice": fmt(first),
        "highPrice": fmt(stats["high"]),
        "lowPrice": fmt(stats["low"]),
        "volume": fmt(volume),
        "quoteVolume": fmt(quote_volume),
        "openTime": int(stats["open_time"]),
        "closeTime": int(stats["close_time"]),
        "firstId": 0,
        "lastId": 0,
        "count": 0,
    }


def order_json(symbol: str, order: SimOrder, meta: OrderMeta) -> dict[str, Any]:
    """GET /api/v3/order (and the RESULT part of a new order's answer)."""
    filled = order.filled_qty
    return {
        "symbol": symbol,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "price": fmt(meta.limit_price),
        "origQty": fmt(order.qty),
        "executedQty": fmt(filled),
        "cummulativeQuoteQty": fmt(filled * order.price),
        "status": order_status(order),
        "timeInForce": meta.time_in_force,
        "type": meta.type,
        "side": order.side.value.upper(),
        "stopPrice": fmt(0.0),
        "icebergQty": fmt(0.0),
        "time": order.created_ts,
        "updateTime": order.updated_ts,
        "isWorking": True,
        "workingTime": order.created_ts,
        "origQuoteOrderQty": fmt(meta.orig_quote_qty),
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }


def new_order_json(
    symbol: str,
    order: SimOrder,
    meta: OrderMeta,
    trades: list[SimTrade],
    fee_assets: Mapping[FeeAsset, str],
    kind: str,
) -> dict[str, Any]:
    """POST /api/v3/order's answer for newOrderRespType ACK, RESULT or FULL."""
    ack = {
        "symbol": symbol,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "transactTime": order.created_ts,
    }
    if kind == "ACK":
        return ack
    result = {**order_json(symbol, order, meta), "transactTime": order.created_ts}
    for key in ("stopPrice", "icebergQty", "time", "updateTime", "isWorking"):
        result.pop(key)
    if kind == "RESULT":
        return result
    fills = [
        {
            "price": fmt(t.price),
            "qty": fmt(t.qty),
            "commission": fmt(t.fee),
            "commissionAsset": fee_assets[t.fee_asset],
            "tradeId": t.trade_id,
        }
        for t in trades
    ]
    return {**result, "fills": fills}


def cancel_json(symbol: str, order: SimOrder, meta: OrderMeta) -> dict[str, Any]:
    """DELETE /api/v3/order's answer."""
    body = order_json(symbol, order, meta)
    for key in ("stopPrice", "icebergQty", "time", "updateTime", "isWorking", "workingTime"):
        body.pop(key)
    return {**body, "origClientOrderId": order.client_order_id, "transactTime": order.updated_ts}


def trade_json(symbol: str, trade: SimTrade, fee_assets: Mapping[FeeAsset, str]) -> dict[str, Any]:
    """GET /api/v3/myTrades rows; the commission is in the asset it was paid in (Binance's
    ``commissionAsset``: the asset received, or BNB)."""
    return {
        "symbol": symbol,
        "id": trade.trade_id,
        "orderId": trade.order_id,
        "orderListId": -1,
        "price": fmt(trade.price),
        "qty": fmt(trade.qty),
        "quoteQty": fmt(trade.price * trade.qty),
        "commission": fmt(trade.fee),
        "commissionAsset": fee_assets[trade.fee_asset],
        "time": trade.ts,
        "isBuyer": trade.side is Side.BUY,
        "isMaker": trade.maker,
        "isBestMatch": True,
    }


def is_open(order: SimOrder) -> bool:
    return order.status is SimStatus.NEW


def order_status(order: SimOrder) -> str:
    """Binance's status: the matching engine's, with PARTIALLY_FILLED for an open order that
    has traded part of its quantity (only the simulator's partial fills make one)."""
    if order.status is SimStatus.NEW and order.filled_qty > 0:
        return "PARTIALLY_FILLED"
    return order.status.value
