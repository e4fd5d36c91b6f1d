"""Binance's signed spot endpoints: orders, trades, the account, and the key's restrictions."""

from __future__ import annotations

import re
import zlib
from decimal import Decimal, InvalidOperation
from typing import Any

from tradebot.engine.types import Side
from tradebot.venues.exchange_sim.account import NewOrder
from tradebot.venues.exchange_sim.auth import Security
from tradebot.venues.exchange_sim.dispatch import Call, Endpoint, weight
from tradebot.venues.exchange_sim.errors import (
    BinanceError,
    bad_decimal,
    illegal,
    mandatory,
    unknown_order_cancel,
)
from tradebot.venues.exchange_sim.routes_public import check_symbol, int_param, limit_param
from tradebot.venues.exchange_sim.rules import check_order
from tradebot.venues.exchange_sim.user_stream import report
from tradebot.venues.exchange_sim.wire import (
    cancel_json,
    fmt,
    is_open,
    new_order_json,
    order_json,
    trade_json,
)

CLIENT_ORDER_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")


def _decimal(params: dict[str, str], name: str) -> Decimal | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise bad_decimal(name) from None
    if not value.is_finite() or value <= 0:
        raise bad_decimal(name)
    return value


def _order_request(call: Call) -> tuple[NewOrder, Decimal | None, Decimal]:
    """Parse and check a new order: (request, price, quantity) or Binance's error."""
    p, market = call.params, call.sim.config.market
    check_symbol(call, required=True)
    side = {"BUY": Side.BUY, "SELL": Side.SELL}.get(p.get("side", ""))
    if side is None:
        raise mandatory("side") if not p.get("side") else BinanceError(-1117, "Invalid side.")
    kind = p.get("type", "")
    if kind not in ("LIMIT", "LIMIT_MAKER", "MARKET"):
        raise mandatory("type") if not kind else BinanceError(-1116, "Invalid orderType.")
    tif = p.get("timeInForce", "")
    if kind == "LIMIT" and tif != "GTC":
        raise mandatory("timeInForce") if not tif else BinanceError(-1115, "Invalid timeInForce.")
    price, qty = _decimal(p, "price"), _decimal(p, "quantity")
    quote_qty = _decimal(p, "quoteOrderQty")
    if kind == "MARKET":
        price = None
        if qty is None and quote_qty is not None:
            last = Decimal(repr(call.sim.market.price))
            step = market.step_size or Decimal("1e-8")
            qty = (quote_qty / last // step) * step
    elif price is None:
        raise mandatory("price")
    if qty is None:
        raise mandatory("quantity")
    check_order(market, price, qty, call.sim.market.price)
    client_id = p.get("newClientOrderId") or f"sim-{len(call.require_account().engine.orders) + 1}"
    if not CLIENT_ORDER_ID.match(client_id):
        raise illegal("newClientOrderId", "^[\\.A-Z\\:/a-z0-9_-]{1,36}$")
    request = NewOrder(
        client_id,
        side,
        kind,
        float(qty),
        None if price is None else float(price),
        tif if kind == "LIMIT" else "GTC",
        float(quote_qty or 0),
    )
    return request, price, qty


def new_order(call: Call) -> dict[str, Any]:
    account, sim = call.require_account(), call.sim
    request, _, _ = _order_request(call)
    kind = call.params.get("newOrderRespType") or "FULL"
    if kind not in ("ACK", "RESULT", "FULL"):
        raise illegal("newOrderRespType", "ACK, RESULT, FULL")
    order = account.place(
        request, sim.market.now_ms, sim.config.limits.orders_per_10s, fill_now=call.fill_now
    )
    trades = [t for t in account.engine.trades if t.order_id == order.order_id]
    report(sim, account, order, "NEW", trades)
    meta, market = account.meta[order.order_id], sim.config.market
    return new_order_json(market.market_id, order, meta, trades, account.fee_assets, kind)


def _order_ids(call: Call) -> tuple[int | None, str | None]:
    check_symbol(call, required=True)
    order_id = int_param(call.params, "orderId")
    client_id = call.params.get("origClientOrderId") or None
    if order_id is None and client_id is None:
        raise BinanceError(
            -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
        )
    return order_id, client_id


def query_order(call: Call) -> dict[str, Any]:
    account = call.require_account()
    order_id, client_id = _order_ids(call)
    order = account.lookup(order_id, client_id, call.sim.faults.visibility_lag_s)
    return order_json(call.sim.config.market.market_id, order, account.meta[order.order_id])


def cancel_order(call: Call) -> dict[str, Any]:
    account = call.require_account()
    order_id, client_id = _order_ids(call)
    order = account.cancel(order_id, client_id, call.sim.market.now_ms)
    report(call.sim, account, order, "CANCELED")
    return cancel_json(call.sim.config.market.market_id, order, account.meta[order.order_id])


def cancel_all(call: Call) -> list[dict[str, Any]]:
    account = call.require_account()
    check_symbol(call, required=True)
    open_orders = account.engine.open_orders()
    if not open_orders:
        raise unknown_order_cancel()
    symbol = call.sim.config.market.market_id
    answer = []
    for o in open_orders:
        account.cancel(o.order_id, None, call.sim.market.now_ms)
        report(call.sim, account, o, "CANCELED")
        answer.append(cancel_json(symbol, o, account.meta[o.order_id]))
    return answer


def open_orders(call: Call) -> list[dict[str, Any]]:
    account = call.require_account()
    check_symbol(call, required=False)
    symbol = call.sim.config.market.market_id
    return [
        order_json(symbol, o, account.meta[o.order_id])
        for o in account.orders(call.sim.faults.visibility_lag_s)
        if is_open(o)
    ]


def _window(call: Call, items: list[Any], key_id: str, time_of: Any, id_of: Any) -> list[Any]:
    """Binance's paging: from an id or a start time forwards, else the most recent ``limit``."""
    p = call.params
    first_id = int_param(p, key_id)
    start, end = int_param(p, "startTime"), int_param(p, "endTime")
    limit = limit_param(p, 500, 1000)
    chosen = [
        item
        for item in items
        if (first_id is None or id_of(item) >= first_id)
        and (start is None or time_of(item) >= start)
        and (end is None or time_of(item) <= end)
    ]
    forwards = first_id is not None or start is not None
    return chosen[:limit] if forwards else chosen[-limit:]


def all_orders(call: Call) -> list[dict[str, Any]]:
    account = call.require_account()
    check_symbol(call, required=True)
    orders = account.orders(call.sim.faults.visibility_lag_s)
    chosen = _window(call, orders, "orderId", lambda o: o.created_ts, lambda o: o.order_id)
    symbol = call.sim.config.market.market_id
    return [order_json(symbol, o, account.meta[o.order_id]) for o in chosen]


def my_trades(call: Call) -> list[dict[str, Any]]:
    account = call.require_account()
    check_symbol(call, required=True)
    trades = account.trades(call.sim.faults.visibility_lag_s)
    order_id = int_param(call.params, "orderId")
    if order_id is not None:
        trades = [t for t in trades if t.order_id == order_id]
    chosen = _window(call, trades, "fromId", lambda t: t.ts, lambda t: t.trade_id)
    market = call.sim.config.market
    return [trade_json(market.market_id, t, account.fee_assets) for t in chosen]


def account_info(call: Call) -> dict[str, Any]:
    account = call.require_account()
    engine, perms = account.engine, account.permissions
    balances = account.balances_json()
    if call.params.get("omitZeroBalances") == "true":
        balances = [b for b in balances if float(b["free"]) or float(b["locked"])]
    return {
        "makerCommission": round(engine.maker_fee * 10_000),
        "takerCommission": round(engine.taker_fee * 10_000),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": fmt(engine.maker_fee),
            "taker": fmt(engine.taker_fee),
            "buyer": fmt(0),
            "seller": fmt(0),
        },
        "canTrade": perms["enableSpotAndMarginTrading"],
        "canWithdraw": perms["enableWithdrawals"],
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": call.sim.market.now_ms,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": zlib.crc32(account.api_key.encode()),
    }


def api_restrictions(call: Call) -> dict[str, Any]:
    """GET /sapi/v1/account/apiRestrictions: what this key may do."""
    return {**call.require_account().permissions, "createTime": 1_700_000_000_000}


def coins(call: Call) -> list[dict[str, Any]]:
    """GET /sapi/v1/capital/config/getall (ccxt's fetchCurrencies, with keys)."""
    account = call.require_account()
    withdraw = account.permissions["enableWithdrawals"]
    return [
        {
            "coin": b["asset"],
            "name": b["asset"],
            "free": b["free"],
            "locked": b["locked"],
            "depositAllEnable": True,
            "withdrawAllEnable": withdraw,
            "isLegalMoney": False,
            "trading": True,
            "networkList": [],
        }
        for b in account.balances_json()
    ]


def no_margin_pairs(_: Call) -> list[Any]:
    """Margin pair lists (ccxt asks when it loads markets with keys): this exchange has none."""
    return []


PRIVATE = [
    Endpoint("POST", "/api/v3/order", new_order, weight(1), Security.TRADE, counts_orders=True),
    Endpoint("GET", "/api/v3/order", query_order, weight(4), Security.USER_DATA),
    Endpoint("DELETE", "/api/v3/order", cancel_order, weight(1), Security.TRADE),
    Endpoint("DELETE", "/api/v3/openOrders", cancel_all, weight(1), Security.TRADE),
    Endpoint(
        "GET", "/api/v3/openOrders", open_orders, weight(6, without_symbol=80), Security.USER_DATA
    ),
    Endpoint("GET", "/api/v3/allOrders", all_orders, weight(20), Security.USER_DATA),
    Endpoint("GET", "/api/v3/myTrades", my_trades, weight(20, with_order_id=5), Security.USER_DATA),
    Endpoint("GET", "/api/v3/account", account_info, weight(20), Security.USER_DATA),
    Endpoint(
        "GET", "/sapi/v1/account/apiRestrictions", api_restrictions, weight(1), Security.KEY_INFO
    ),
    Endpoint("GET", "/sapi/v1/capital/config/getall", coins, weight(10), Security.USER_DATA),
    Endpoint("GET", "/sapi/v1/margin/allPairs", no_margin_pairs, weight(1), Security.USER_DATA),
    Endpoint(
        "GET", "/sapi/v1/margin/isolated/allPairs", no_margin_pairs, weight(10), Security.USER_DATA
    ),
]
