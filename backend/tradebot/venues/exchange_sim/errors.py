"""Binance's error bodies (``{"code": -1022, "msg": ...}``) with the HTTP status Binance uses.

The codes and messages are Binance's own, because clients (ccxt among them) map them onto their
exception classes by code and by exact message.
"""

from __future__ import annotations


class BinanceError(Exception):
    """An error answer: ``status`` is the HTTP status, ``headers`` extra response headers."""

    def __init__(
        self, code: int, msg: str, status: int = 400, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status
        self.headers = headers or {}

    def body(self) -> dict[str, object]:
        return {"code": self.code, "msg": self.msg}


def mandatory(param: str) -> BinanceError:
    return BinanceError(
        -1102, f"Mandatory parameter '{param}' was not sent, was empty/null, or malformed."
    )


def illegal(param: str, legal: str) -> BinanceError:
    return BinanceError(
        -1100, f"Illegal characters found in parameter '{param}'; legal range is '{legal}'."
    )


def bad_decimal(param: str) -> BinanceError:
    return BinanceError(-1100, f"Illegal characters found in parameter '{param}'.")


def filter_failure(name: str) -> BinanceError:
    return BinanceError(-1013, f"Filter failure: {name}")


def invalid_symbol() -> BinanceError:
    return BinanceError(-1121, "Invalid symbol.")


def invalid_interval() -> BinanceError:
    return BinanceError(-1120, "Invalid interval.")


def order_not_found() -> BinanceError:
    """Querying an order the exchange does not (yet) know."""
    return BinanceError(-2013, "Order does not exist.")


def unknown_order_cancel() -> BinanceError:
    """Cancelling an order that is unknown, or no longer open."""
    return BinanceError(-2011, "Unknown order sent.")


def insufficient_balance() -> BinanceError:
    return BinanceError(-2010, "Account has insufficient balance for requested action.")


def duplicate_order() -> BinanceError:
    return BinanceError(-2010, "Duplicate order sent.")


def api_key_format() -> BinanceError:
    return BinanceError(-2014, "API-key format invalid.", status=401)


def api_key_rejected() -> BinanceError:
    """Unknown key, or a key without the permission the endpoint needs (Binance says the same)."""
    return BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)


def bad_signature() -> BinanceError:
    return BinanceError(-1022, "Signature for this request is not valid.")


def outside_recv_window() -> BinanceError:
    return BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")


def too_much_weight(limit: int, window_s: float, retry_after_s: int) -> BinanceError:
    window = "1 MINUTE" if window_s == 60 else f"{window_s:g} SECOND"
    return BinanceError(
        -1003,
        f"Too much request weight used; current limit is {limit} request weight per {window}. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
        status=429,
        headers={"Retry-After": str(retry_after_s)},
    )


def too_many_connections(limit: int, window_s: float, retry_after_s: int) -> BinanceError:
    """A WebSocket handshake past the IP's connection attempts (Binance: 300 in 5 minutes)."""
    window = "5 minutes" if window_s == 300 else f"{window_s:g} seconds"
    return BinanceError(
        -1003,
        f"Too many new connections; current limit is {limit} connection attempts per IP "
        f"every {window}.",
        status=429,
        headers={"Retry-After": str(retry_after_s)},
    )


def banned(until_ms: int, retry_after_s: int) -> BinanceError:
    return BinanceError(
        -1003,
        f"Way too much request weight used; IP banned until {until_ms}. Please use WebSocket "
        "Streams for live updates to avoid bans.",
        status=418,
        headers={"Retry-After": str(retry_after_s)},
    )


def too_many_orders(limit: int) -> BinanceError:
    return BinanceError(
        -1015,
        f"Too many new orders; current limit is {limit} orders per TEN_SECONDS.",
        status=429,
        headers={"Retry-After": "10"},
    )
