"""The error tree every layer raises.

The CLI turns it into one line on stderr, the API into a problem body.
"""

from __future__ import annotations


class TradeBotError(Exception):
    """Base of every error we raise on purpose."""

    retryable = False
    """Trying again later may succeed (nothing was wrong but an answer that did not come)."""


class BadInputError(TradeBotError, ValueError):
    """The user's input cannot be used: a file, a setting, a grid or a request."""


class ConfigError(BadInputError):
    """A setting has a value we refuse; the message names the variable."""


class CandleDataError(BadInputError):
    """A candle file is missing, corrupt, or fails validation."""


class NotFoundError(TradeBotError):
    """The thing asked for does not exist (or is not the caller's: we never say which)."""


class ConflictError(TradeBotError):
    """The request clashes with the current state (the kill switch is on, a run is over...)."""
