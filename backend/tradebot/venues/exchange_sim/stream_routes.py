"""The simulator's WebSocket endpoints, where ccxt.pro's ``binance`` class connects:

- ``/ws`` and ``/ws/{name}``: the market streams (ccxt opens ``/ws/0``, ``/ws/1``... and sends
  ``{"method": "SUBSCRIBE", "params": ["btcusdt@miniTicker"], "id": 1}``; a raw stream name in
  the path, ``/ws/btcusdt@trade``, subscribes at once). Answers: ``{"result": null, "id": 1}``,
  or ``{"error": {"code": 2, "msg": ...}, "id": 1}``. Methods: SUBSCRIBE, UNSUBSCRIBE,
  LIST_SUBSCRIPTIONS.
- ``/ws-api/v3``: the WebSocket API, as far as the user-data stream needs it:
  ``userDataStream.subscribe.signature`` (signed with the account's key, like ccxt's
  ``watch_orders``/``watch_my_trades``/``watch_balance`` do), ``userDataStream.unsubscribe``,
  ``session.subscriptions``, ``ping`` and ``time``. Events arrive as
  ``{"subscriptionId": n, "event": {...}}``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from tradebot.venues.exchange_sim.auth import authenticate_ws
from tradebot.venues.exchange_sim.errors import BinanceError
from tradebot.venues.exchange_sim.market_streams import ticker_snapshot, valid_stream
from tradebot.venues.exchange_sim.simulator import ExchangeSimulator
from tradebot.venues.exchange_sim.stream_faults import Channel
from tradebot.venues.exchange_sim.stream_hub import Connection

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
WS_API_SUBSCRIBE_WEIGHT = 2


async def _serve(
    sim: ExchangeSimulator,
    request: web.Request,
    channel: Channel,
    answer: Callable[[Connection, Any], list[dict[str, Any]]],
) -> web.StreamResponse:
    """Run one socket: frames in go to ``answer``; its replies and the events go out in order."""
    if sim.streams.refusing(channel):  # a disconnect fault keeps the stream down a while
        return web.Response(status=503, text="Service Unavailable")
    try:
        sim.limiter.connect(request.remote or "unknown")
    except BinanceError as exc:
        return web.json_response(exc.body(), status=exc.status, headers=exc.headers)
    ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20)
    await ws.prepare(request)
    connection = sim.streams.open(request, ws, channel)
    pump = asyncio.create_task(connection.pump())
    try:
        first = request.match_info.get("name", "")
        if "@" in first:
            raw = {"method": "SUBSCRIBE", "params": first.split("/"), "id": None}
            for reply in answer(connection, raw):
                connection.send(json.dumps(reply))
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                continue
            try:
                data = json.loads(message.data)
            except ValueError:
                data = None
            for reply in answer(connection, data):
                connection.send(json.dumps(reply))
    finally:
        sim.streams.close(connection)
        pump.cancel()
    return ws


def _stream_error(code: int, msg: str, request_id: Any) -> dict[str, Any]:
    return {"error": {"code": code, "msg": msg}, "id": request_id}


def _market_answer(sim: ExchangeSimulator) -> Callable[[Connection, Any], list[dict[str, Any]]]:
    def answer(connection: Connection, data: Any) -> list[dict[str, Any]]:
        if not isinstance(data, dict):
            return [_stream_error(3, "Invalid JSON: expected an object", None)]
        request_id, method, params = data.get("id"), data.get("method"), data.get("params", [])
        if method == "LIST_SUBSCRIPTIONS":
            return [{"result": sorted(connection.streams), "id": request_id}]
        if method not in ("SUBSCRIBE", "UNSUBSCRIBE"):
            return [_stream_error(2, f"Invalid request: unknown method {method!r}", request_id)]
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            return [_stream_error(1, "Invalid value type: expected a list of strings", request_id)]
        bad = [p for p in params if not valid_stream(p)]
        if bad:
            msg = f"Invalid request: invalid stream name {bad[0]!r}"
            return [_stream_error(2, msg, request_id)]
        if method == "UNSUBSCRIBE":
            connection.streams.difference_update(params)
            return [{"result": None, "id": request_id}]
        connection.streams.update(params)
        snapshots = [s for s in (ticker_snapshot(sim, p) for p in params) if s is not None]
        ack = [] if request_id is None else [{"result": None, "id": request_id}]
        return ack + ([] if sim.faults.stale else snapshots)

    return answer


def _api_error(request_id: Any, error: BinanceError) -> dict[str, Any]:
    return {"id": request_id, "status": error.status, "error": error.body()}


def _api_answer(
    sim: ExchangeSimulator, ip: str
) -> Callable[[Connection, Any], list[dict[str, Any]]]:
    def answer(connection: Connection, data: Any) -> list[dict[str, Any]]:
        if not isinstance(data, dict):
            return [_api_error(None, BinanceError(-1100, "Malformed request."))]
        request_id, method = data.get("id"), data.get("method")
        params = data.get("params") or {}
        try:
            if not isinstance(params, dict):
                raise BinanceError(-1100, "Illegal characters found in parameter 'params'.")
            result = _api_call(sim, connection, ip, str(method), params)
        except BinanceError as exc:
            return [_api_error(request_id, exc)]
        return [{"id": request_id, "status": 200, "result": result, **_rate_limits(sim, ip)}]

    return answer


def _api_call(
    sim: ExchangeSimulator, connection: Connection, ip: str, method: str, params: dict[str, Any]
) -> Any:
    if method == "ping":
        return {}
    if method == "time":
        return {"serverTime": sim.server_time_ms()}
    if method == "session.subscriptions":
        return [{"subscriptionId": s} for s in sorted(connection.users)]
    if method == "userDataStream.subscribe.signature":
        sim.limiter.charge(ip, WS_API_SUBSCRIBE_WEIGHT)
        account = authenticate_ws(sim.accounts, params, sim.server_time_ms())
        return {"subscriptionId": sim.streams.subscribe_user(connection, account.api_key)}
    if method == "userDataStream.unsubscribe":
        chosen = params.get("subscriptionId")
        if chosen is not None and not isinstance(chosen, int):
            raise BinanceError(-1100, "Illegal characters found in parameter 'subscriptionId'.")
        if not sim.streams.unsubscribe_user(connection, chosen) and chosen is not None:
            raise BinanceError(-2, "Not subscribed.")
        return {}
    raise BinanceError(-1100, f"Unknown method {method!r}.")


def _rate_limits(sim: ExchangeSimulator, ip: str) -> dict[str, Any]:
    limits = sim.config.limits
    return {
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": limits.weight_limit,
                "count": sim.limiter.used(ip),
            }
        ]
    }


def market_socket(sim: ExchangeSimulator) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return await _serve(sim, request, Channel.MARKET, _market_answer(sim))

    return handle


def api_socket(sim: ExchangeSimulator) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        ip = request.remote or "unknown"
        return await _serve(sim, request, Channel.USER, _api_answer(sim, ip))

    return handle


STREAM_ROUTES: list[tuple[str, Callable[[ExchangeSimulator], Handler]]] = [
    ("/ws", market_socket),
    ("/ws/{name:.+}", market_socket),
    ("/ws-api/v3", api_socket),
]
