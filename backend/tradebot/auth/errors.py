"""Refusals of the auth layer: who you are (401) and what you may do (403)."""

from __future__ import annotations

from tradebot.errors import TradeBotError


class AuthenticationError(TradeBotError):
    """No credentials, or credentials we do not accept (bad token, wrong audience...)."""


class ForbiddenError(TradeBotError):
    """Authenticated, but not allowed here (a customer on an operator route)."""
