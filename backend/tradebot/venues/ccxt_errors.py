"""ccxt's exception classes sorted into the venue errors the run loop understands.

- retryable (``TransientVenueError``): NetworkError and its family (RequestTimeout,
  ExchangeNotAvailable, OnMaintenance, InvalidNonce), DDoSProtection / RateLimitExceeded (as
  ``RateLimitedError`` with the server's Retry-After), BadResponse (garbage), and any other
  OperationFailed (Binance -1000/-1001 "internal error"). ``order_state_unknown`` says whether
  an order request may still have been carried out: after a timeout, a dropped connection, a
  5xx or a garbled answer it may; a 429/418 or a refused nonce was refused before any work.
- ``OrderRejectedError``: the exchange refused the order and did not create it
  (InvalidOrder, InsufficientFunds, BadRequest such as a filter failure, OperationRejected).
- ``OrderUnknownError``: the exchange does not (yet) know the order (OrderNotFound). Not proof
  that it does not exist: exchanges answer this for a just-created order for a while.
- ``FatalVenueError``: stop the run: AuthenticationError, PermissionDenied, AccountSuspended,
  BadSymbol, NotSupported, and any other ExchangeError.

One ccxt quirk is undone here: once a key has authenticated, ccxt's binance class reports
Binance's -2015 ("Invalid API-key, IP, or permissions for action.") as DDoSProtection, which
would retry a key that lost its permissions forever; it is fatal.
"""

from __future__ import annotations

from typing import Any

import ccxt

from tradebot.runtime.ports import (
    FatalVenueError,
    OrderRejectedError,
    TransientVenueError,
    VenueError,
)


class RateLimitedError(TransientVenueError):
    """429 / 418: wait ``retry_after`` seconds (the server's Retry-After) when given."""

    order_state_unknown = False

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnreachableError(TransientVenueError):
    """Timeout, dropped connection, 5xx, garbled answer: a request's effect is unknown."""

    order_state_unknown = True


class RefusedRetryableError(TransientVenueError):
    """Refused before any work (bad nonce, a temporary refusal): safe to send again."""

    order_state_unknown = False


class OrderUnknownError(VenueError):
    """The exchange does not (yet) know this order."""


def retry_after_seconds(exchange: Any) -> float | None:
    """Retry-After of the exchange's last answer, in seconds (ccxt keeps the last headers)."""
    headers = getattr(exchange, "last_response_headers", None) or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None


def translate(exc: BaseException, exchange: Any = None) -> VenueError:
    """Our error for a ccxt exception (give the exchange to read Retry-After)."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        if '"code":-2015' in message.replace(" ", ""):
            return FatalVenueError(f"API key refused (no permission for this action): {message}")
        return RateLimitedError(message, retry_after_seconds(exchange))
    if isinstance(exc, ccxt.InvalidNonce):
        return RefusedRetryableError(message)
    if isinstance(exc, ccxt.NetworkError | ccxt.BadResponse | ccxt.OperationFailed):
        return UnreachableError(message)
    if isinstance(exc, ccxt.OrderNotFound):
        return OrderUnknownError(message)
    if isinstance(exc, ccxt.InsufficientFunds):
        return OrderRejectedError(message, insufficient_funds=True)
    if isinstance(exc, ccxt.AuthenticationError | ccxt.BadSymbol | ccxt.NotSupported):
        return FatalVenueError(message)
    if isinstance(exc, ccxt.InvalidOrder | ccxt.BadRequest | ccxt.OperationRejected):
        return OrderRejectedError(message)
    return FatalVenueError(message)
