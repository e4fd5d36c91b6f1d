"""The one way a process reaches an exchange: a ``CcxtVenue`` with its request budget.

A run trading on its own connection and a worker's shared price feed are wired alike. On an
exchange, every request takes its weight from the per-IP budget shared with every worker
(Redis). A stepped sandbox is driven by its one reader alone, so it needs no budget: its clock
is the step itself (one segment per poll, no pause between polls, no ccxt spacing).
"""

from __future__ import annotations

from dataclasses import dataclass

from tradebot.config import Settings
from tradebot.venues.ccxt_factory import make_exchange
from tradebot.venues.ccxt_venue import CcxtVenue
from tradebot.venues.rate_limit import RateLimiter
from tradebot.venues.sandbox_clock import SandboxClock


@dataclass(frozen=True, slots=True)
class ExchangeAccess:
    """Where the exchange is, and whose requests these are."""

    exchange: str
    pair: str
    account: str | None = None
    """The client whose orders these are (its share of the budget); None for public prices."""
    api_key: str | None = None
    secret: str | None = None
    sandbox_url: str | None = None
    """Base URL of a local exchange simulator (tests, demos); None = the real exchange."""
    sandbox_step: bool = False
    """Step a paused simulator one segment per poll (deterministic sandbox runs)."""


@dataclass(frozen=True, slots=True)
class ExchangeConnection:
    venue: CcxtVenue
    limiter: RateLimiter | None
    sandbox: SandboxClock | None
    """The stepped sandbox's clock, if any: its owner may make it hold (``hold_while``)."""

    async def close(self) -> None:
        await self.venue.close()
        if self.limiter is not None:
            await self.limiter.close()


def connect(settings: Settings, access: ExchangeAccess) -> ExchangeConnection:
    """A venue on ``access`` (close it with ``close``): nothing is asked of the exchange yet."""
    url = access.sandbox_url
    stepped = access.sandbox_step and url is not None
    exchange = make_exchange(  # first: an unknown exchange leaves nothing open
        access.exchange,
        api_key=access.api_key,
        secret=access.secret,
        sandbox_url=url,
        timeout_ms=settings.EXCHANGE_TIMEOUT_MS,
        rate_limit=not stepped,
    )
    sandbox = SandboxClock(url) if stepped and url is not None else None
    limiter = None if stepped else RateLimiter.from_settings(settings, access.exchange)
    venue = CcxtVenue(
        exchange,
        access.pair,
        poll_interval_ms=0 if stepped else settings.ORDER_POLL_INTERVAL_MS,
        account=access.account,
        before_poll=sandbox.step if sandbox is not None else None,
        limiter=limiter,
    )
    return ExchangeConnection(venue, limiter, sandbox)
