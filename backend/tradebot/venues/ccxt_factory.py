"""The one place a ccxt exchange is built.

Every exchange comes out the same way: async, ccxt's own rate limiter on, ``verbose`` forced off
and ccxt's debug logger silenced (both print request headers, API key included), and answers a
JSON API cannot give (a 2xx whose body is not JSON) raised as ``BadResponse`` instead of being
parsed into records full of None. With ``sandbox_url`` every API URL of the exchange is
redirected to that base (the local exchange simulator), path kept, so no request can leave for
the real exchange; nothing inside ccxt is patched, the class is only subclassed.

``streams=True`` builds the same exchange from ``ccxt.pro`` (its ``watch_*`` methods on top of
the REST ones); with ``sandbox_url`` its WebSocket URLs go to the same host and port
(``ws://host:port/ws``, ``/ws-api/v3``: the simulator serves both), path kept.
"""

from __future__ import annotations

import logging
import socket
import ssl
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro
import certifi
from ccxt.base.errors import BadResponse

from tradebot.errors import BadInputError

_SILENT = logging.getLogger("tradebot.venues.ccxt_wire")
_SILENT.disabled = True  # ccxt logs signed headers (the API key) at DEBUG
_SILENT.propagate = False

# A spot grid needs spot markets only: skip futures' exchangeInfo, margin pair lists and the
# signed currency list that ccxt's binance class loads by default.
_LEAN_OPTIONS: dict[str, dict[str, Any]] = {
    "binance": {
        "fetchMarkets": {"types": ["spot"]},
        "fetchMargins": False,
        "fetchCurrencies": False,
    },
}


class UnknownExchangeError(BadInputError):
    """An exchange id ccxt does not know."""


class _Hardened:
    """Mixed in before the ccxt class: no verbose output, strict JSON answers."""

    @property
    def verbose(self) -> bool:
        return False

    @verbose.setter
    def verbose(self, _: bool) -> None:
        return None  # stays off whatever a caller or ccxt's constructor asks

    def handle_errors(
        self,
        code: int,
        reason: str,
        url: str,
        method: str,
        headers: dict[str, str],
        body: str,
        response: Any,
        request_headers: Any,
        request_body: Any,
    ) -> Any:
        result = super().handle_errors(  # type: ignore[misc]
            code, reason, url, method, headers, body, response, request_headers, request_body
        )
        if 200 <= code < 300 and response is None and _should_be_json(headers, body):
            raise BadResponse(f"{method} {url}: answer is not JSON: {(body or '')[:60]!r}")
        return result


def _should_be_json(headers: dict[str, str], body: str | None) -> bool:
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    text = (body or "").lstrip()
    return "json" in content_type.lower() or text.startswith(("{", "["))


@cache
def _hardened_class(exchange_id: str, streams: bool) -> type[Any]:
    base = getattr(ccxt_pro if streams else ccxt_async, exchange_id)
    return type(base.__name__, (_Hardened, base), {})


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every exchange client of the process: ccxt builds one per client
    from its CA file, and reading that file was a tenth of a worker's CPU while a thousand
    runs started (a client context is safe to share)."""
    return ssl.create_default_context(cafile=certifi.where())


def shared_http() -> aiohttp.ClientSession:
    """One HTTP connection pool for many exchange clients of the process (a worker's runs);
    create it in the running loop, and close it after them. Each ccxt client otherwise opens
    its own: a thousand pools to one host, whose housekeeping timers were ~5 % of a worker's
    CPU at a thousand runs. No limit on connections: the clients' WebSockets are in it too."""
    connector = aiohttp.TCPConnector(
        ssl=_tls(),
        limit=0,
        enable_cleanup_closed=True,
        family=socket.AF_UNSPEC,
        happy_eyeballs_delay=0,
    )
    return aiohttp.ClientSession(connector=connector)


def make_exchange(
    exchange_id: str,
    *,
    api_key: str | None = None,
    secret: str | None = None,
    sandbox_url: str | None = None,
    timeout_ms: int = 10_000,
    rate_limit: bool = True,
    options: dict[str, Any] | None = None,
    streams: bool = False,
    http: aiohttp.ClientSession | None = None,
) -> Any:
    """An async ccxt exchange (close it with ``await exchange.close()``); with ``streams`` the
    ``ccxt.pro`` one, whose ``watch_*`` methods use the exchange's WebSocket streams. ``http``:
    a pool it borrows (``shared_http``) instead of opening its own."""
    if exchange_id not in ccxt_async.exchanges:
        raise UnknownExchangeError(f"unknown exchange {exchange_id!r} (not a ccxt exchange id)")
    if streams and exchange_id not in ccxt_pro.exchanges:
        raise UnknownExchangeError(f"ccxt has no streaming (ccxt.pro) {exchange_id!r} class")
    config: dict[str, Any] = {
        "timeout": timeout_ms,
        "enableRateLimit": rate_limit,
        "logger": _SILENT,
        "options": {**_LEAN_OPTIONS.get(exchange_id, {}), **(options or {})},
        "ssl_context": _tls(),
    }
    if http is not None:
        config["session"] = http  # ccxt leaves a session it was given open at its close
    if api_key is not None:
        config["apiKey"] = api_key
    if secret is not None:
        config["secret"] = secret
    exchange = _hardened_class(exchange_id, streams)(config)
    if sandbox_url is not None:
        exchange.urls["api"] = _redirect(exchange.urls["api"], sandbox_url.rstrip("/"))
        if sandbox_url.startswith("http://"):
            exchange.timeout_on_exit = 0  # ccxt's wait for TLS sessions to close: none here
    return exchange


def _redirect(urls: Any, base: str) -> Any:
    """Every URL in ccxt's ``urls['api']`` (a string or nested dicts) moved onto ``base``; a
    WebSocket URL onto the same host as ``ws://`` (``wss://`` for an https base)."""
    if isinstance(urls, dict):
        return {name: _redirect(value, base) for name, value in urls.items()}
    if isinstance(urls, str) and urls.startswith(("http://", "https://")):
        return base + urlsplit(urls).path
    if isinstance(urls, str) and urls.startswith(("ws://", "wss://")):
        return "ws" + base.removeprefix("http") + urlsplit(urls).path
    return urls
