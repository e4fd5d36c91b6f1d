"""Refusals of the bots domain that are about state, not input."""

from __future__ import annotations

from tradebot.errors import TradeBotError


class ConflictError(TradeBotError):
    """The request clashes with the current state (the kill switch is on, a run is over...)."""
