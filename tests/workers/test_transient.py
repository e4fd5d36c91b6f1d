"""Which failures a run's job waits out and tries again, and which end it."""

from __future__ import annotations

from asyncpg.exceptions import CannotConnectNowError, ConnectionDoesNotExistError
from sqlalchemy.exc import DBAPIError

from tradebot.venues.ccxt_errors import RateLimitedError
from tradebot.workers.run_job import is_transient, retry_defer


def wrapped(error: Exception) -> DBAPIError:
    """The driver's error as SQLAlchemy raises it (a generic DBAPIError caused by it)."""
    try:
        try:
            raise error
        except Exception as exc:
            raise DBAPIError("SELECT 1", None, exc) from exc
    except DBAPIError as outer:
        return outer


def test_a_database_starting_or_shutting_down_is_waited_out() -> None:
    # The soak saw "the database system is shutting down" fail jobs outright during a
    # PostgreSQL restart: their runs then waited a minute for the sweeper.
    assert is_transient(wrapped(CannotConnectNowError("the database system is starting up")))
    assert is_transient(wrapped(ConnectionDoesNotExistError("connection was closed")))


def test_a_statement_the_database_refuses_is_not() -> None:
    assert not is_transient(wrapped(ValueError("invalid input syntax")))


def test_a_run_retries_soon_after_a_first_failure_and_backs_off_on_a_streak() -> None:
    # A run handed over a hundred times once waited a minute after a database restart: the
    # backoff followed arq's try count, which every hand-over raises.
    error = OSError("connection refused")
    waits = [retry_defer(error, streak).total_seconds() for streak in range(1, 10)]
    assert waits == [0.5, 1, 2, 4, 8, 16, 32, 60, 60]


def test_a_retry_never_comes_before_the_exchanges_retry_after() -> None:
    busy = RateLimitedError("429 Too Many Requests", retry_after=2.0)
    assert retry_defer(busy, 1).total_seconds() == 2.0
    assert retry_defer(busy, 5).total_seconds() == 8.0
