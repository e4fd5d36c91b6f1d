"""ccxt's exception classes sorted into retryable, rejected, unknown and fatal venue errors,
and the retry loop that acts on that sorting."""

from __future__ import annotations

import ccxt
import pytest

from tradebot.runtime.ports import FatalVenueError, OrderRejectedError, TransientVenueError
from tradebot.venues.ccxt_errors import (
    OrderUnknownError,
    RateLimitedError,
    RefusedRetryableError,
    UnreachableError,
    retry_after_seconds,
    translate,
)
from tradebot.venues.ccxt_factory import make_exchange
from tradebot.venues.retry import Backoff, call_with_retries


@pytest.mark.parametrize(
    ("ccxt_error", "ours", "unknown_state"),
    [
        (ccxt.RequestTimeout, UnreachableError, True),
        (ccxt.ExchangeNotAvailable, UnreachableError, True),
        (ccxt.OnMaintenance, UnreachableError, True),
        (ccxt.NetworkError, UnreachableError, True),
        (ccxt.BadResponse, UnreachableError, True),
        (ccxt.NullResponse, UnreachableError, True),
        (ccxt.OperationFailed, UnreachableError, True),
        (ccxt.RateLimitExceeded, RateLimitedError, False),
        (ccxt.DDoSProtection, RateLimitedError, False),
        (ccxt.InvalidNonce, RefusedRetryableError, False),
    ],
)
def test_network_trouble_and_rate_limits_are_retryable(ccxt_error, ours, unknown_state):
    error = translate(ccxt_error("binance something"))
    assert type(error) is ours
    assert isinstance(error, TransientVenueError)
    assert error.retryable
    assert error.order_state_unknown is unknown_state


@pytest.mark.parametrize(
    ("ccxt_error", "funds"),
    [
        (ccxt.InvalidOrder, False),
        (ccxt.BadRequest, False),
        (ccxt.OperationRejected, False),
        (ccxt.InsufficientFunds, True),
    ],
)
def test_refused_orders_are_rejections(ccxt_error, funds):
    error = translate(ccxt_error("binance {}"))
    assert isinstance(error, OrderRejectedError)
    assert error.insufficient_funds is funds
    assert not error.retryable


@pytest.mark.parametrize(
    "ccxt_error",
    [
        ccxt.AuthenticationError,
        ccxt.PermissionDenied,
        ccxt.AccountSuspended,
        ccxt.BadSymbol,
        ccxt.NotSupported,
        ccxt.ExchangeError,
    ],
)
def test_keys_permissions_and_unknown_pairs_are_fatal(ccxt_error):
    error = translate(ccxt_error("binance {}"))
    assert isinstance(error, FatalVenueError)
    assert not error.retryable


def test_order_not_found_is_unknown_not_cancelled_and_not_fatal():
    error = translate(ccxt.OrderNotFound('binance {"code":-2013,"msg":"Order does not exist."}'))
    assert isinstance(error, OrderUnknownError)
    assert not isinstance(error, FatalVenueError | OrderRejectedError)
    assert not error.retryable


def test_binances_permission_refusal_disguised_as_ddos_protection_is_fatal():
    # ccxt turns -2015 into DDoSProtection once the key has worked: retrying would loop forever.
    disguised = ccxt.DDoSProtection(
        'binance {"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}'
    )
    error = translate(disguised)
    assert isinstance(error, FatalVenueError)
    assert not error.retryable


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "0.5"}, 0.5),
        ({}, None),
        ({"Retry-After": "soon"}, None),
    ],
)
def test_retry_after_is_read_from_the_last_answer(headers, seconds):
    exchange = make_exchange("binance")  # ccxt keeps the last answer's headers here
    exchange.last_response_headers = headers
    assert retry_after_seconds(exchange) == seconds
    error = translate(ccxt.DDoSProtection("429"), exchange)
    assert error.retry_after == seconds


async def test_retries_stop_at_a_fatal_error_and_keep_its_cause():
    calls = []

    async def refuse():
        calls.append(1)
        raise ccxt.AuthenticationError("binance -1022")

    with pytest.raises(FatalVenueError) as caught:
        await call_with_retries(
            refuse, translate, Backoff(attempts=5, base_s=0), catch=(ccxt.BaseError,)
        )
    assert len(calls) == 1
    assert isinstance(caught.value.__cause__, ccxt.AuthenticationError)


async def test_retries_give_up_after_the_attempts_with_the_last_error():
    calls, waits = [], []

    async def flaky():
        calls.append(1)
        raise ccxt.RequestTimeout("binance GET timeout")

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    with pytest.raises(UnreachableError):
        await call_with_retries(
            flaky,
            translate,
            Backoff(attempts=4, base_s=1, cap_s=2),
            catch=(ccxt.BaseError,),
            sleep=no_sleep,
        )
    assert len(calls) == 4
    assert len(waits) == 3
    assert all(0 <= w <= 2 for w in waits)  # full jitter under the cap


async def test_errors_outside_the_caught_classes_pass_through_untouched():
    async def bug():
        raise KeyError("a bug, not the exchange")

    with pytest.raises(KeyError):
        await call_with_retries(bug, translate, Backoff(), catch=(ccxt.BaseError,))
