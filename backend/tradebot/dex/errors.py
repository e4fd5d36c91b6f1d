"""What the DEX check raises: bad input, a node that cannot run it, a token refused by the guard."""

from __future__ import annotations

from tradebot.errors import BadInputError, TradeBotError


class DexInputError(BadInputError):
    """An address, an amount or a token/pool the check cannot work with."""


class DexNodeError(TradeBotError):
    """The RPC node could not be reached, timed out, or refuses ``eth_call`` state overrides."""

    retryable = True


class TokenNotSellableError(TradeBotError):
    """The guard refuses to buy a token: it cannot be sold, or not at an acceptable tax."""
