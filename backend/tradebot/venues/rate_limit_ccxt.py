"""ccxt requests through the shared ``RateLimiter``, without patching ccxt.

How a venue uses it::

    exchange = make_exchange("binance", api_key=key, secret=secret)
    bind(exchange, limiter, account=account)            # once, right after creating it
    order = await throttled(
        limiter, BinanceWeight.ORDER_CREATE,
        lambda: exchange.create_order(symbol, "limit", "buy", qty, price, params),
        account=account, is_order=True, max_wait=5.0,
    )
    trades = await throttled(
        limiter, BinanceWeight.MY_TRADES, lambda: exchange.fetch_my_trades(symbol),
        account=account, priority=Priority.QUERY,
    )

``priority`` orders the waiters when the IP's budget runs short (``Priority``: orders, cancels,
fill and order queries, restart reads, routine polls); without it ``is_order`` means ``ORDER``,
``routine`` means ``ROUTINE`` and anything else ``RECONCILE``.

``bind`` sets two hooks on the exchange *instance*, both extension points ccxt calls itself:

- ``throttle(cost)``, which ccxt awaits before every HTTP request when ``enableRateLimit`` is on.
  It replaces ccxt's own per-instance token bucket (which knows nothing of other processes).
  Each request's weight is ccxt's own cost estimate for its endpoint, converted; inside
  ``throttled`` it is first taken from the weight already acquired there, and only what goes
  beyond is acquired (say a ``create_order`` that loads the markets first: exchangeInfo's 20).
  Outside ``throttled`` the whole weight is acquired. Nothing reaches the exchange uncounted.
  Where ccxt's table is coarser than the exchange's (``myTrades`` of one order: ccxt says 20,
  Binance charges 5), the caller names ccxt's estimate (``ccxt_weight``) and its request is
  charged the weight the caller acquired.
- ``on_rest_response(...)``, which ccxt calls with every answer's status and headers, before it
  raises for a 429/418. ``throttled`` hands them to ``RateLimiter.report`` before it returns or
  raises, so a 429 blocks every process before the caller's retry; answers outside
  ``throttled`` are reported from a background task.

Binance spot request weights (per IP, per minute) of the calls we make:

==================================  ======================================  =================
ccxt call                           endpoint                                weight
==================================  ======================================  =================
``load_markets``                    ``GET /api/v3/exchangeInfo``            20
``fetch_ohlcv``                     ``GET /api/v3/klines``                  2
``fetch_ticker``                    ``GET /api/v3/ticker/24hr`` (symbol)    2
``fetch_ticker`` (price only)       ``GET /api/v3/ticker/price`` (symbol)   2
``create_order``                    ``POST /api/v3/order``                  1, + 1 order
``cancel_order``                    ``DELETE /api/v3/order``                1
``fetch_order``                     ``GET /api/v3/order``                   4
``fetch_open_orders(symbol)``       ``GET /api/v3/openOrders``              6 (80 no symbol)
``fetch_my_trades``                 ``GET /api/v3/myTrades``                20 (5 with orderId)
``fetch_balance``                   ``GET /api/v3/account``                 20
``sapi_get_account_apirestrictions`` ``GET /sapi/v1/account/apiRestrictions``  1
``watch_orders``/``watch_my_trades`` WS-API ``userDataStream.subscribe``     2, once a socket
==================================  ======================================  =================
"""

from __future__ import annotations

import asyncio
import contextvars
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from tradebot.observability.logs import get_logger
from tradebot.venues.rate_limit import (
    Priority,
    RateLimiter,
    RateLimiterUnavailable,
    priority_of,
)

T = TypeVar("T")
log = get_logger(__name__)


class BinanceWeight:
    """The weights of the table above, to pass to ``throttled``."""

    EXCHANGE_INFO: Final = 20
    KLINES: Final = 2
    TICKER: Final = 2
    TICKER_PRICE: Final = 2
    ORDER_CREATE: Final = 1
    ORDER_CANCEL: Final = 1
    ORDER_QUERY: Final = 4
    OPEN_ORDERS: Final = 6
    OPEN_ORDERS_ALL_SYMBOLS: Final = 80
    MY_TRADES: Final = 20
    MY_TRADES_OF_ORDER: Final = 5
    ACCOUNT: Final = 20
    API_RESTRICTIONS: Final = 1
    USER_STREAM_SUBSCRIBE: Final = 2


# ccxt states costs relative to its rateLimit: for Binance spot, cost = 0.2 x weight.
_WEIGHT_PER_CCXT_COST: Final = {"binance": 5.0}


@dataclass(slots=True)
class _Call:
    """One ``throttled`` call: its account and wait limit, weight acquired and not yet used,
    its answers."""

    account: str | None
    max_wait: float | None
    credit: int
    priority: Priority
    ccxt_weight: int | None = None
    """ccxt's estimate of the call's own request, charged ``stated`` instead (once)."""
    stated: int = 0
    answers: list[tuple[int, Mapping[str, str]]] = field(default_factory=list)


_CURRENT: contextvars.ContextVar[_Call | None] = contextvars.ContextVar(
    "tradebot_rate_limit_call", default=None
)


def bind(exchange: Any, limiter: RateLimiter, *, account: str | None = None) -> None:
    """Route every HTTP request of this async ccxt ``exchange`` through ``limiter``, charged to
    ``account`` (the tenant whose key the exchange holds; None for public data)."""
    per_cost = _WEIGHT_PER_CCXT_COST.get(str(exchange.id), 1.0)
    original_response = exchange.on_rest_response
    background: set[asyncio.Task[None]] = set()

    async def throttle(cost: float | None = None) -> None:
        # round first: ccxt's 1.2 x 5 is 6.000000000000001, not 7
        weight = max(1, math.ceil(round(float(cost or 1) * per_cost, 6)))
        call = _CURRENT.get()
        if call is not None and call.ccxt_weight == weight:
            call.ccxt_weight, weight = None, call.stated  # the exchange charges what was stated
        if call is not None:
            used = min(call.credit, weight)
            call.credit, weight = call.credit - used, weight - used
        if weight > 0:
            weight = min(weight, limiter.limits.budget)
            if call is None:
                await limiter.acquire(weight, account=account)
            else:
                await limiter.acquire(
                    weight, account=call.account, max_wait=call.max_wait, priority=call.priority
                )

    def on_rest_response(
        code: int, reason: str, url: str, method: str, headers: Mapping[str, str], *rest: Any
    ) -> Any:
        call = _CURRENT.get()
        if call is not None:
            call.answers.append((code, headers))
        else:
            task = asyncio.get_running_loop().create_task(_report(limiter, code, headers, account))
            background.add(task)
            task.add_done_callback(background.discard)
        return original_response(code, reason, url, method, headers, *rest)

    exchange.enableRateLimit = True  # so that ccxt awaits ``throttle`` before each request
    exchange.throttle = throttle
    exchange.on_rest_response = on_rest_response


async def throttled(
    limiter: RateLimiter,
    weight: int,
    call: Callable[[], Awaitable[T]],
    *,
    account: str | None = None,
    is_order: bool = False,
    max_wait: float | None = None,
    routine: bool = False,
    priority: Priority | None = None,
    ccxt_weight: int | None = None,
) -> T:
    """Acquire ``weight`` (and an order of ``account`` when ``is_order``) at ``priority``
    (by default ``ORDER`` for an order, ``ROUTINE`` for a ``routine`` poll, else
    ``RECONCILE``), then ``await call()``; afterwards report the answers' headers (and any
    429/418) to the limiter, also when the call raised. Weight that ccxt spends beyond
    ``weight`` inside the call waits at the same priority. The exchange must have been
    ``bind``-ed for the reporting. ``ccxt_weight``: ccxt's estimate of the call's request,
    when the exchange charges it ``weight`` instead."""
    rank = priority_of(priority, is_order=is_order, routine=routine)
    await limiter.acquire(
        weight, account=account, is_order=is_order, max_wait=max_wait, priority=rank
    )
    record = _Call(account, max_wait, weight, rank, ccxt_weight, weight)
    token = _CURRENT.set(record)
    try:
        return await call()
    finally:
        _CURRENT.reset(token)
        for status, headers in record.answers:
            await _report(limiter, status, headers, account)


async def _report(
    limiter: RateLimiter, status: int, headers: Mapping[str, str], account: str | None
) -> None:
    """Report one answer; a Redis outage here only loses a correction (logged)."""
    try:
        await limiter.report(status, headers, account=account)
    except RateLimiterUnavailable as exc:
        log.warning("rate_limit_report_lost", status=status, error=str(exc))
