"""The simulator's own endpoints under ``/_sim`` (no keys, no weights, no faults): step the
market, inject faults, read state, manage accounts. Bad input answers 400 ``{"error": ...}``.

- ``GET /_sim/state``: market position, accounts, faults, limits, request counts
- ``POST /_sim/advance``: ``{"segments": n}`` | ``{"candles": n}`` | ``{"to_end": true}``
- ``GET|POST|DELETE /_sim/faults``: POST ``{"rules": [...], "replace": false, "stale": bool,
  "visibility_lag_s": s, "streams": [...]}``; ``streams`` are WebSocket fault rules, e.g.
  ``{"kind": "stall", "channel": "market", "seconds": 3}``, ``{"kind": "drop", "count": 2}``,
  ``{"kind": "duplicate", "channel": "user", "api_key": k}``, ``{"kind": "delay", "seconds":
  0.5}``, ``{"kind": "reorder", "count": 3, "seed": 7}``, ``{"kind": "drop", "probability":
  0.01, "seed": 1}`` (see ``stream_faults``); DELETE clears every fault
- ``POST /_sim/streams/disconnect``: ``{"channel": "market"|"user", "api_key": k, "abrupt":
  false, "refuse_s": 0}`` (all optional) closes the matching WebSockets (and refuses new ones of
  the channel for ``refuse_s`` seconds: the stream is down); answers ``{"closed": n}``
- ``POST /_sim/accounts``: add an account (the keys file's format)
- ``GET /_sim/accounts/{key}``: an account with every order and trade
- ``POST /_sim/accounts/{key}/permissions``: e.g. ``{"enableWithdrawals": true}``
- ``POST /_sim/clock``: ``{"speed": x}`` (0 pauses the real-time replay)
- ``POST /_sim/reset_limits``: forget weight windows, bans and request counts
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tradebot.errors import BadInputError, NotFoundError
from tradebot.venues.exchange_sim.config import account_from_json
from tradebot.venues.exchange_sim.faults import rule_from_json
from tradebot.venues.exchange_sim.simulator import ExchangeSimulator
from tradebot.venues.exchange_sim.stream_faults import Channel

Route = Callable[[ExchangeSimulator, dict[str, Any], web.Request], Any]


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise BadInputError("the body must be JSON") from None
    if not isinstance(data, dict):
        raise BadInputError("the body must be a JSON object")
    return data


def _count(body: dict[str, Any], name: str) -> int:
    try:
        value = int(body[name])
    except (TypeError, ValueError):
        raise BadInputError(f"{name} must be an integer") from None
    if value < 0:
        raise BadInputError(f"{name} must be >= 0")
    return value


def state(sim: ExchangeSimulator, _: dict[str, Any], __: web.Request) -> Any:
    return sim.state()


def advance(sim: ExchangeSimulator, body: dict[str, Any], _: web.Request) -> Any:
    if body.get("to_end"):
        walked = sim.advance_to_end()
    elif "candles" in body:
        walked = sim.advance_candles(_count(body, "candles"))
    elif "segments" in body:
        walked = sim.advance(_count(body, "segments"))
    else:
        raise BadInputError('say how far: {"segments": n}, {"candles": n} or {"to_end": true}')
    return {"walked": walked, **sim.state()["market"]}


def faults(sim: ExchangeSimulator, body: dict[str, Any], request: web.Request) -> Any:
    if request.method == "DELETE":
        sim.faults.clear()
        sim.set_stale(False)
    elif request.method == "POST":
        rules = [rule_from_json(rule) for rule in body.get("rules", [])]
        streams = body.get("streams", [])
        if not isinstance(streams, list):
            raise BadInputError("streams must be a list of stream fault rules")
        if body.get("replace"):
            sim.faults.rules.clear()
            sim.faults.streams.clear()
        sim.faults.rules.extend(rules)
        sim.faults.streams.add(streams)
        if "stale" in body:
            sim.set_stale(bool(body["stale"]))
        if "visibility_lag_s" in body:
            try:
                sim.faults.visibility_lag_s = max(0.0, float(body["visibility_lag_s"]))
            except (TypeError, ValueError):
                raise BadInputError("visibility_lag_s must be a number") from None
    return sim.faults.state()


def disconnect(sim: ExchangeSimulator, body: dict[str, Any], _: web.Request) -> Any:
    try:
        channel = None if body.get("channel") is None else Channel(str(body["channel"]))
    except ValueError:
        raise BadInputError('channel must be "market" or "user"') from None
    api_key = body.get("api_key")
    try:
        refuse_s = max(0.0, float(body.get("refuse_s", 0.0)))
    except (TypeError, ValueError):
        raise BadInputError("refuse_s must be a number") from None
    closed = sim.streams.disconnect(
        channel,
        None if api_key is None else str(api_key),
        abrupt=bool(body.get("abrupt")),
        refuse_s=refuse_s,
    )
    return {"closed": closed}


def add_account(sim: ExchangeSimulator, body: dict[str, Any], _: web.Request) -> Any:
    return sim.add_account(account_from_json(body)).state()


def account(sim: ExchangeSimulator, _: dict[str, Any], request: web.Request) -> Any:
    return sim.account_detail(request.match_info["key"])


def permissions(sim: ExchangeSimulator, body: dict[str, Any], request: web.Request) -> Any:
    return sim.set_permissions(request.match_info["key"], body)


def clock(sim: ExchangeSimulator, body: dict[str, Any], _: web.Request) -> Any:
    try:
        speed = float(body["speed"])
    except (KeyError, TypeError, ValueError):
        raise BadInputError('give {"speed": x}, x >= 0') from None
    if speed < 0:
        raise BadInputError("speed must be >= 0")
    sim.speed = speed
    return {"speed": sim.speed}


def reset_limits(sim: ExchangeSimulator, _: dict[str, Any], __: web.Request) -> Any:
    sim.limiter.reset()
    sim.requests.clear()
    sim.requests_by_key.clear()
    return sim.limiter.state()


CONTROL: list[tuple[str, str, Route]] = [
    ("GET", "/_sim/state", state),
    ("POST", "/_sim/advance", advance),
    ("GET", "/_sim/faults", faults),
    ("POST", "/_sim/faults", faults),
    ("DELETE", "/_sim/faults", faults),
    ("POST", "/_sim/streams/disconnect", disconnect),
    ("POST", "/_sim/accounts", add_account),
    ("GET", "/_sim/accounts/{key}", account),
    ("POST", "/_sim/accounts/{key}/permissions", permissions),
    ("POST", "/_sim/clock", clock),
    ("POST", "/_sim/reset_limits", reset_limits),
]


def control_handler(
    sim: ExchangeSimulator, route: Route
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        try:
            return web.json_response(route(sim, await _body(request), request))
        except NotFoundError as exc:
            return web.json_response({"error": str(exc)}, status=404)
        except BadInputError as exc:
            return web.json_response({"error": str(exc)}, status=400)

    return handle
