"""One Binance request, start to finish: count it, charge its weight, apply any fault, check the
signature, run the endpoint, and answer in Binance's format with its headers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tradebot.venues.exchange_sim.account import SimAccount
from tradebot.venues.exchange_sim.auth import Security, authenticate
from tradebot.venues.exchange_sim.errors import BinanceError, too_much_weight
from tradebot.venues.exchange_sim.faults import FaultKind, FaultRule, Phase
from tradebot.venues.exchange_sim.simulator import ExchangeSimulator


@dataclass(frozen=True, slots=True)
class Call:
    """What an endpoint function gets."""

    sim: ExchangeSimulator
    params: dict[str, str]
    account: SimAccount | None
    fill_now: bool = False
    """A fault asks that an order accepted by this request trade at once."""

    def require_account(self) -> SimAccount:
        assert self.account is not None, "signed endpoints always get an account"
        return self.account


Handler = Callable[[Call], Any]
Weight = Callable[[dict[str, str]], int]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    weight: Weight
    security: Security = Security.NONE
    counts_orders: bool = False


def weight(
    value: int, *, without_symbol: int | None = None, with_order_id: int | None = None
) -> Weight:
    """A fixed weight, or another one when the request names no symbol, or one order."""

    def compute(params: dict[str, str]) -> int:
        if without_symbol is not None and "symbol" not in params and "symbols" not in params:
            return without_symbol
        if with_order_id is not None and "orderId" in params:
            return with_order_id
        return value

    return compute


async def _read_params(request: web.Request) -> tuple[dict[str, str], tuple[str, str]]:
    query = request.rel_url.raw_query_string
    body = (await request.read()).decode("utf-8", errors="replace") if request.can_read_body else ""
    params = dict(parse_qsl(query, keep_blank_values=True))
    params.update(parse_qsl(body, keep_blank_values=True))
    return params, (query, body)


async def dispatch(
    sim: ExchangeSimulator, endpoint: Endpoint, request: web.Request
) -> web.StreamResponse:
    api_key = request.headers.get("X-MBX-APIKEY")
    sim.count_request(endpoint.method, endpoint.path, api_key)
    ip = request.remote or "unknown"
    headers: dict[str, str] = {}
    rule: FaultRule | None = None
    try:
        params, payload = await _read_params(request)
        used = sim.limiter.charge(ip, endpoint.weight(params))
        headers["X-MBX-USED-WEIGHT-1M"] = headers["X-MBX-USED-WEIGHT"] = str(used)
        rule = sim.faults.pick(endpoint.method, endpoint.path, api_key)
        if rule is not None and rule.phase is Phase.BEFORE:
            return await _fault(rule, request, None, sim.config.limits.weight_limit)
        account = None
        if endpoint.security is not Security.NONE:
            account = authenticate(
                sim.accounts, api_key, params, payload, endpoint.security, sim.server_time_ms()
            )
        fill_now = rule is not None and rule.fill
        body = endpoint.handler(Call(sim, params, account, fill_now))
        if endpoint.counts_orders and account is not None:
            headers["X-MBX-ORDER-COUNT-10S"] = str(account.order_count_10s())
        response = web.json_response(body, headers=headers)
    except BinanceError as exc:
        headers.setdefault("X-MBX-USED-WEIGHT-1M", str(sim.limiter.used(ip)))
        response = web.json_response(
            exc.body(), status=exc.status, headers={**headers, **exc.headers}
        )
    if rule is not None:
        return await _fault(rule, request, response, sim.config.limits.weight_limit)
    return response


async def _fault(
    rule: FaultRule, request: web.Request, response: web.Response | None, weight_limit: int
) -> web.StreamResponse:
    """Answer as the fault says; ``response`` is the real answer (None: never processed)."""
    if rule.kind is FaultKind.RATE_LIMIT:
        err = too_much_weight(weight_limit, 60, rule.retry_after_s)
        return web.json_response(err.body(), status=err.status, headers=err.headers)
    if rule.kind is FaultKind.STATUS_5XX:
        page = f"<html><body><h1>{rule.status} Service Unavailable</h1></body></html>"
        return web.Response(status=rule.status, text=page, content_type="text/html")
    if rule.kind is FaultKind.TIMEOUT:
        await asyncio.sleep(rule.hold_s)  # the client gave up long ago
        return response or web.Response(status=504, text="Gateway Timeout")
    if rule.kind is FaultKind.DROP:
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)  # never delivered: the connection is gone
    text = response.text if response is not None and response.text else json.dumps({"code": 0})
    return web.Response(
        status=200, text=text[: max(1, len(text) // 2)], content_type="application/json"
    )
