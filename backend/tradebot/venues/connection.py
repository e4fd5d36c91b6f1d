"""The one way a process reaches an exchange: a ``CcxtVenue`` with its request budget.

A run trading on its own connection and a worker's shared price feed are wired alike. On an
exchange, every request takes its weight from the per-IP budget shared with every worker
(Redis). With streams on (``EXCHANGE_STREAMS``), prices come from the ticker stream and a keyed
connection learns of its fills from the account's user-data stream, one per account in the
process when the caller holds ``AccountStreams`` (a worker); REST is the fallback. A
stepped sandbox is driven by its one reader alone, so it needs no budget and takes no streams:
its clock is the step itself (one segment per poll, no pause between polls, no ccxt spacing).
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from tradebot.config import Settings
from tradebot.runtime.ports import PriceFeed
from tradebot.venues.account_streams import AccountStreams
from tradebot.venues.ccxt_factory import make_exchange
from tradebot.venues.ccxt_venue import CcxtVenue
from tradebot.venues.markets import markets_key
from tradebot.venues.rate_limit import RateLimiter
from tradebot.venues.sandbox_clock import SandboxClock
from tradebot.venues.stream_prices import StreamPrices


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
    prices: PriceFeed
    """The pair's prices: the ticker stream (polls while it is down), or the venue's polls."""

    async def close(self) -> None:
        if self.prices is not self.venue:
            await self.prices.close()
        await self.venue.close()
        if self.limiter is not None:
            await self.limiter.close()


def connect(
    settings: Settings,
    access: ExchangeAccess,
    *,
    prices: PriceFeed | None = None,
    accounts: AccountStreams | None = None,
    http: aiohttp.ClientSession | None = None,
) -> ExchangeConnection:
    """A venue on ``access`` (close it with ``close``): nothing is asked of the exchange yet.
    ``prices``: a feed the venue takes its ticks from (a worker's shared stream) instead of
    one of its own. ``accounts``: the process's account streams the venue's fills come from;
    without them the venue's account gets a stream of its own (closed with the venue).
    ``http``: the process's connection pool (``ccxt_factory.shared_http``)."""
    url = access.sandbox_url
    stepped = access.sandbox_step and url is not None
    streams = settings.EXCHANGE_STREAMS and not stepped
    exchange = make_exchange(  # first: an unknown exchange leaves nothing open
        access.exchange,
        api_key=access.api_key,
        secret=access.secret,
        sandbox_url=url,
        timeout_ms=settings.EXCHANGE_TIMEOUT_MS,
        rate_limit=not stepped,
        streams=streams,
        http=http,
    )
    sandbox = SandboxClock(url) if stepped and url is not None else None
    limiter = None if stepped else RateLimiter.from_settings(settings, access.exchange)
    stream = None
    if streams and access.api_key is not None and access.secret is not None:
        hubs = accounts if accounts is not None else AccountStreams()
        stream = hubs.join(
            access.exchange,
            access.pair,
            exchange=exchange,
            api_key=access.api_key,
            secret=access.secret,
            sandbox_url=url,
            limiter=limiter,
        )
    keyed = access.api_key is not None
    venue = CcxtVenue(
        exchange,
        access.pair,
        poll_interval_ms=0 if stepped else settings.ORDER_POLL_INTERVAL_MS,
        account=access.account,
        before_poll=sandbox.step if sandbox is not None else None,
        limiter=limiter,
        prices=prices,
        stream=stream,
        reconcile_every_ms=settings.RECONCILE_INTERVAL_MS,
        markets_key=markets_key(access.exchange, url),
        hedge_after_ms=settings.EXCHANGE_HEDGE_AFTER_MS,
    )
    own: PriceFeed = venue
    if streams and prices is None:
        # A keyed connection listens to prices on a public exchange of their own: closing a
        # stalled price stream's sockets must not close the account's user-data stream.
        public = venue
        if keyed:
            public = CcxtVenue(
                make_exchange(
                    access.exchange,
                    sandbox_url=url,
                    timeout_ms=settings.EXCHANGE_TIMEOUT_MS,
                    streams=True,
                ),
                access.pair,
                poll_interval_ms=settings.ORDER_POLL_INTERVAL_MS,
                limiter=limiter,
                markets_key=venue.markets_key,
            )
        own = StreamPrices(
            public,
            stale_after_s=settings.STREAM_STALE_MS / 1000,
            poll_interval_s=settings.ORDER_POLL_INTERVAL_MS / 1000,
            owns_rest=keyed,
        )
        if keyed:  # a run's own connection: its ticks come from its stream too
            venue.prices = own
    return ExchangeConnection(venue, limiter, sandbox, own)
