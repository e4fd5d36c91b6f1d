"""The simulator's answers have the fields and types of Binance's own, as ccxt recorded them.

For every call the product makes (and a few more ccxt makes for it), the raw JSON the simulator
gives ccxt is compared with the real answer in ccxt's static fixtures (``data/README.md``): the
same field names, and for each field the same kind of value (a decimal string, an integer, a
bool, ...). Integers the recording keeps as strings compare as integers (see the README). Lists
compare their first items (rows of a table: position by position).

Not covered, for want of a recording: exchangeInfo (load_markets), cancelOrder and the user
stream's ``outboundAccountPosition`` (ccxt has no spot example of them).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.venues.sim_fixtures import KEY, SECRET, ccxt_client, control, running_sim
from tradebot.venues.exchange_sim.auth import sign

SYMBOL = "BTC/USDT"
DATA = Path(__file__).parent / "data" / "ccxt_static.json.gz"
INTEGER_FIELDS = {
    "orderId", "orderListId", "transactTime", "time", "updateTime", "workingTime",
    "lastUpdateId", "openTime", "closeTime", "firstId", "lastId", "count", "id", "uid",
    "makerCommission", "takerCommission", "buyerCommission", "sellerCommission",
    "a", "f", "l", "T",
}  # fmt: skip
"""Fields whose recorded value may be an integer written as a string."""
NOT_SENT = {"createOrder": {"icebergQty"}}
"""Fields the recording has because of what it asked (an iceberg order) and we never do."""


@cache
def recorded() -> dict[str, Any]:
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        return json.load(f)


def kind(value: Any, key: str | None) -> str:
    if isinstance(value, bool):
        return "bool"
    if value is None:
        return "null"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        if key in INTEGER_FIELDS and value.lstrip("-").isdigit():
            return "integer"
        try:
            Decimal(value)
        except InvalidOperation:
            return "string"
        return "decimal string"
    return type(value).__name__


def differences(ours: Any, real: Any, path: str = "", key: str | None = None) -> list[str]:
    """Where ``ours`` differs from ``real`` in field names or kinds of value."""
    if isinstance(real, dict) and isinstance(ours, dict):
        out = [f"{path}: missing {k!r}" for k in real if k not in ours]
        out += [f"{path}: extra {k!r}" for k in ours if k not in real]
        for k in real.keys() & ours.keys():
            out += differences(ours[k], real[k], f"{path}.{k}", k)
        return out
    if isinstance(real, list) and isinstance(ours, list):
        if not real or not ours:
            return []
        if all(not isinstance(v, dict | list) for v in real):  # a row: position by position
            if len(real) != len(ours):
                return [f"{path}: {len(ours)} items, Binance has {len(real)}"]
            return [d for i, (o, r) in enumerate(zip(ours, real, strict=True))
                    for d in differences(o, r, f"{path}[{i}]")]  # fmt: skip
        return differences(ours[0], real[0], f"{path}[0]", key)
    ours_kind, real_kind = kind(ours, key), kind(real, key)
    if ours_kind != real_kind:
        return [f"{path}: {ours_kind} {ours!r}, Binance has {real_kind} {real!r}"]
    return []


def rest_example(method: str) -> Any:
    answer = recorded()["rest"][method]["httpResponse"]
    skip = NOT_SENT.get(method, set())
    if isinstance(answer, dict):
        return {k: v for k, v in answer.items() if k not in skip}
    return answer


async def test_every_rest_answer_the_product_reads_has_binance_s_fields_and_types():
    async with running_sim() as sim, ccxt_client(sim.url) as exchange:
        exchange.enableLastJsonResponse = True  # ccxt keeps the raw answer: what we compare

        async def raw(method: str, *args: Any) -> Any:
            await getattr(exchange, method)(*args)
            return exchange.last_json_response

        await control(sim.url, "POST", "/_sim/advance", {"candles": 2})
        price = (await exchange.fetch_ticker(SYMBOL))["last"]
        answers = {
            "fetchTicker": await raw("fetch_ticker", SYMBOL),
            "fetchOHLCV": await raw("fetch_ohlcv", SYMBOL, "1m", None, 3),
            "fetchOrderBook": await raw("fetch_order_book", SYMBOL, 2),
            "fetchTrades": await raw("fetch_trades", SYMBOL, None, 1),
            "createOrder": await raw(
                "create_order", SYMBOL, "limit", "buy", 0.01, round(price - 500, 2)
            ),
            "fetchOpenOrders": await raw("fetch_open_orders", SYMBOL),
            "fetchBalance": await raw("fetch_balance"),
        }
        order_id = answers["createOrder"]["orderId"]
        await exchange.cancel_order(str(order_id), SYMBOL)
        sold = await exchange.create_order(SYMBOL, "market", "sell", 0.01)
        answers["fetchOrder"] = await raw("fetch_order", sold["id"], SYMBOL)
        answers["fetchOrders"] = await raw("fetch_orders", SYMBOL)
        answers["fetchMyTrades"] = await raw("fetch_my_trades", SYMBOL)
    found = {m: differences(a, rest_example(m), m) for m, a in answers.items()}
    assert {m: d for m, d in found.items() if d} == {}


def _frames(method: str, description: str | None = None) -> list[dict[str, Any]]:
    examples = recorded()["ws"][method]
    example = next(e for e in examples if description is None or e["description"] == description)
    return example["messages"]


async def _received(ws: aiohttp.ClientWebSocketResponse, n: int) -> list[Any]:
    return [json.loads((await ws.receive(timeout=3)).data) for _ in range(n)]


async def test_market_stream_frames_have_binance_s_fields_and_types():
    async with (
        running_sim() as sim,
        aiohttp.ClientSession() as session,
        session.ws_connect(sim.url.replace("http", "ws") + "/ws/0") as ws,
    ):
        streams = ["btcusdt@miniTicker", "btcusdt@bookTicker", "btcusdt@trade", "btcusdt@ticker"]
        await ws.send_json({"method": "SUBSCRIBE", "params": streams[:2], "id": 1})
        ack, mini, book = await _received(ws, 3)
        await ws.send_json({"method": "SUBSCRIBE", "params": streams[2:], "id": 2})
        __, ticker = await _received(ws, 2)
        sim.sim.advance(1)
        (trade,) = [f for f in await _received(ws, 4) if f.get("e") == "trade"]
    spot_ticker = _frames("watchTicker", "spot ticker")
    # the only recorded full ticker is a COIN-M one: its futures-only fields aside, and the
    # spot stream's best bid and ask (which it lacks) checked against bookTicker's
    coin_m = {k: v for k, v in _frames("watchTicker", "inverse swap ticker")[1].items()
              if k not in ("ps", "st")}  # fmt: skip
    spot_only = {k: ticker.pop(k) for k in ("x", "b", "B", "a", "A")}
    found = {
        "subscribe ack": differences(ack, spot_ticker[0]),
        "miniTicker": differences(mini, spot_ticker[1]),
        "bookTicker": differences(book, _frames("watchBidsAsks")[1]),
        "trade": differences(trade, _frames("watchTrades")[0]),
        "ticker": differences(ticker, coin_m),
        "ticker spot fields": [k for k, v in spot_only.items() if kind(v, k) != "decimal string"],
    }
    assert {m: d for m, d in found.items() if d} == {}


async def test_user_stream_frames_have_binance_s_fields_and_types():
    lifecycle = _frames("watchOrders", "spot market order lifecycle from open to closed after fill")
    limit = _frames("watchOrders", "BTC/USDT spot GTC limit order is not postOnly")
    real = {
        "subscribe": lifecycle[0],
        "NEW": lifecycle[1],
        "TRADE": lifecycle[2],
        "CANCELED": limit[2],
        "TRADE (my trades)": _frames("watchMyTrades")[1],
    }
    async with (
        running_sim() as sim,
        aiohttp.ClientSession() as session,
        session.ws_connect(sim.url.replace("http", "ws") + "/ws-api/v3") as ws,
        ccxt_client(sim.url) as rest,
    ):
        params = {"apiKey": KEY, "recvWindow": 10000, "timestamp": int(time.time() * 1000)}
        payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        await ws.send_json(
            {
                "id": "1",
                "method": "userDataStream.subscribe.signature",
                "params": {**params, "signature": sign(SECRET, payload)},
            }
        )
        (subscribed,) = await _received(ws, 1)
        bought = await rest.create_order(SYMBOL, "market", "buy", 0.01)
        new, trade, _ = await _received(ws, 3)
        placed = await rest.create_order(SYMBOL, "limit", "buy", 0.01, 50_000)
        await asyncio.sleep(0)
        await rest.cancel_order(placed["id"], SYMBOL)
        __, ___, cancelled, ____ = await _received(ws, 4)
    assert bought["id"] == str(new["event"]["i"])
    ours = {
        "subscribe": subscribed,
        "NEW": new,
        "TRADE": trade,
        "CANCELED": cancelled,
        "TRADE (my trades)": trade,
    }
    found = {name: differences(ours[name], real[name], name) for name in real}
    assert {m: d for m, d in found.items() if d} == {}


@pytest.mark.parametrize(
    ("ours", "real", "expected"),
    [
        ({"a": "1.5", "time": 1}, {"a": "2.0", "time": "7"}, []),
        ({"p": 1}, {"p": "7"}, [".p: integer 1, Binance has decimal string '7'"]),
        ({"a": 1.5}, {"a": "2.0"}, [".a: float 1.5, Binance has decimal string '2.0'"]),
        ({"a": "x"}, {"a": "x", "b": True}, [": missing 'b'"]),
        ({"orderId": 3}, {"orderId": "3"}, []),
        ([[1, "2.0"]], [[5, "1.0"], [6, "1.0"]], []),
        ([[1, 2.0]], [[5, "1.0"]], ["[0][1]: float 2.0, Binance has decimal string '1.0'"]),
    ],
)
def test_the_comparison_itself(ours, real, expected):
    assert differences(ours, real) == expected
