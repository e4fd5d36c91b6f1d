"""Which failures a run's job waits out and tries again, and which end it."""

from __future__ import annotations

from asyncpg.exceptions import CannotConnectNowError, ConnectionDoesNotExistError
from sqlalchemy.exc import DBAPIError

from tradebot.workers.run_job import is_transient


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
