"""Signed requests, checked as Binance checks them.

The client sends its key in ``X-MBX-APIKEY`` and ``signature`` = hex HMAC-SHA256, keyed by the
secret, over the query string followed by the request body exactly as sent (percent-encoding
included), without the ``signature`` parameter itself. ``timestamp`` must fall within
``recvWindow`` (default 5000 ms, at most 60000) before the server's clock, and at most one
second after it.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import Enum

from tradebot.venues.exchange_sim.account import SimAccount
from tradebot.venues.exchange_sim.errors import (
    BinanceError,
    api_key_format,
    api_key_rejected,
    bad_signature,
    mandatory,
    outside_recv_window,
)

MAX_RECV_WINDOW_MS = 60_000
DEFAULT_RECV_WINDOW_MS = 5_000


class Security(Enum):
    NONE = "none"
    USER_DATA = "user_data"
    """Signed; needs the key's reading permission."""
    TRADE = "trade"
    """Signed; needs spot trading permission."""
    KEY_INFO = "key_info"
    """Signed; any valid key may ask (the key's own restrictions)."""


def strip_signature(raw: str) -> str:
    return "&".join(part for part in raw.split("&") if not part.startswith("signature="))


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _int(params: dict[str, str], name: str, default: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise mandatory(name)
        return default
    try:
        return int(raw)
    except ValueError:
        raise mandatory(name) from None


def authenticate(
    accounts: dict[str, SimAccount],
    api_key: str | None,
    params: dict[str, str],
    payload: tuple[str, str],
    security: Security,
    server_ms: int,
) -> SimAccount:
    """The account a signed request acts for, or Binance's refusal. ``payload`` is the raw
    (query string, body) pair."""
    if not api_key:
        raise api_key_format()
    account = accounts.get(api_key)
    if account is None:
        raise api_key_rejected()
    signature = params.get("signature")
    if not signature:
        raise mandatory("signature")
    query, body = payload
    expected = sign(account.config.secret, strip_signature(query) + strip_signature(body))
    if not hmac.compare_digest(expected, signature.lower()):
        raise bad_signature()
    _check_time(params, server_ms)
    allowed = {
        Security.USER_DATA: account.permissions.get("enableReading", False),
        Security.TRADE: account.permissions.get("enableSpotAndMarginTrading", False),
        Security.KEY_INFO: True,
    }
    if not allowed.get(security, False):
        raise api_key_rejected()
    return account


def authenticate_ws(
    accounts: dict[str, SimAccount], params: dict[str, object], server_ms: int
) -> SimAccount:
    """The account a signed WebSocket API request (``params`` with ``apiKey``, ``timestamp``
    and ``signature``) acts for: the signature is over every other parameter sorted by name,
    ``name=value`` joined by ``&``; the key needs its reading permission."""
    api_key = params.get("apiKey")
    if not isinstance(api_key, str) or not api_key:
        raise api_key_format()
    account = accounts.get(api_key)
    if account is None:
        raise api_key_rejected()
    signature = params.get("signature")
    if not isinstance(signature, str) or not signature:
        raise mandatory("signature")
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "signature")
    if not hmac.compare_digest(sign(account.config.secret, payload), signature.lower()):
        raise bad_signature()
    _check_time({k: str(v) for k, v in params.items()}, server_ms)
    if not account.permissions.get("enableReading", False):
        raise api_key_rejected()
    return account


def _check_time(params: dict[str, str], server_ms: int) -> None:
    timestamp = _int(params, "timestamp")
    recv_window = _int(params, "recvWindow", DEFAULT_RECV_WINDOW_MS)
    if not 0 < recv_window <= MAX_RECV_WINDOW_MS:
        raise BinanceError(-1131, "recvWindow must be less than 60000")
    if timestamp < server_ms - recv_window or timestamp > server_ms + 1000:
        raise outside_recv_window()
