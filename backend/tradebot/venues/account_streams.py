"""One user-data stream per exchange account per process, fanned out to every run of it.

A customer with five bots on one exchange account used to open five user-data streams (five
subscriptions, five sockets, five logins' weight). Here the account's first run opens the
account's one stream (``AccountStream``: a ccxt.pro client of its own, with the account's keys)
and every run of the account takes the rows of its pair from it (a ``UserStream`` each).

Only the hub reads: ccxt.pro's ``watch_my_trades`` and ``watch_orders`` return the rows that
came since *that client's* previous call, so two readers on one client would each miss what the
other took. The hub reads every symbol at once (no symbol given: the rows carry theirs) and
hands each row to the runs of its ``symbol``. A failure of the stream is a gap for every run of
it; each run closes its own gap by its own REST reconciliation (see ``venues.user_stream``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from tradebot.config import Settings
from tradebot.observability.logs import get_logger
from tradebot.venues.ccxt_factory import make_exchange
from tradebot.venues.markets import MARKETS
from tradebot.venues.rate_limit import RateLimiter
from tradebot.venues.rate_limit_ccxt import bind
from tradebot.venues.stream_pump import RECONNECT, pump
from tradebot.venues.user_stream import Row, UserStream

log = get_logger(__name__)
HubKey = tuple[str, str | None, str]
"""(exchange id, sandbox URL, key fingerprint)."""


def fingerprint(api_key: str, secret: str) -> str:
    """The account, named without its key: hub keys end up in logs and debugger dumps."""
    return hashlib.sha256(f"{api_key}\n{secret}".encode()).hexdigest()[:16]


def markets_key(exchange_id: str, sandbox_url: str | None) -> str:
    """Where ``venues.markets`` keeps the markets of this exchange at this URL."""
    return f"{exchange_id} {sandbox_url or 'exchange'}"


class AccountStream:
    """One account's user-data stream on an exchange client it owns: started by the first
    run's ``start()``, closed (client and all) when its last run leaves."""

    def __init__(
        self,
        exchange: Any,
        *,
        name: str,
        markets_key: str,
        on_closed: Callable[[AccountStream], None] = lambda _: None,
        settle_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.exchange = exchange
        self.name = name
        """The account's fingerprint (what logs say)."""
        self.markets_key = markets_key
        self.settle_s = settle_s
        self._clock = clock
        self._on_closed = on_closed
        self._runs: dict[str, list[UserStream]] = {}
        """symbol -> the runs of it"""
        self._readers: list[asyncio.Task[None]] = []
        self.closed = False

    def join(self, symbol: str) -> UserStream:
        """A run's stream of ``symbol``'s rows: they reach it from now on."""
        stream = UserStream(self, symbol, settle_s=self.settle_s, clock=self._clock)
        self._runs.setdefault(symbol, []).append(stream)
        return stream

    def start(self) -> None:
        """Read, if not reading yet (and not closed)."""
        if self._readers or self.closed:
            return
        now = self._clock()
        for stream in self._all():
            stream.listening_from(now)
        self._readers = [
            asyncio.create_task(self._read(self.exchange.watch_my_trades, UserStream.add_trades)),
            asyncio.create_task(self._read(self.exchange.watch_orders, UserStream.add_orders)),
        ]

    async def leave(self, stream: UserStream) -> None:
        runs = self._runs.get(stream.symbol, [])
        if stream in runs:
            runs.remove(stream)
            if not runs:
                del self._runs[stream.symbol]
        if not self._runs:
            await self.close()

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._on_closed(self)  # before any await: a run joining meanwhile opens a new hub
        for task in self._readers:
            task.cancel()
        for task in self._readers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.exchange.close()

    def _all(self) -> list[UserStream]:
        return [stream for streams in self._runs.values() for stream in streams]

    async def _read(
        self,
        watch: Callable[[], Awaitable[list[Row]]],
        add: Callable[[UserStream, list[Row]], None],
    ) -> None:
        async def rows() -> list[Row]:
            if self.exchange.markets is None:  # ccxt would load its own: 20 weight per account
                await MARKETS.load(self.exchange, self.markets_key, self.exchange.load_markets)
            return await watch()

        def arrived(batch: list[Row]) -> None:
            by_symbol: defaultdict[str, list[Row]] = defaultdict(list)
            for row in batch:
                by_symbol[str(row.get("symbol"))].append(row)
            for symbol, mine in by_symbol.items():
                for stream in self._runs.get(symbol, []):
                    add(stream, mine)

        await pump(rows, arrived, self._down, RECONNECT)

    def _down(self, error: Exception, retry_s: float) -> None:
        again = self._clock() + retry_s  # ccxt subscribes again on the next watch
        for stream in self._all():
            stream.down(again)
        log.info(
            "user_stream_down",
            account=self.name,
            pairs=sorted(self._runs),
            runs=len(self._all()),
            error=str(error),
            retry_s=retry_s,
        )


class AccountStreams:
    """The process's account streams, one per (exchange, sandbox URL, account key).

    A worker holds one for all its runs (``close`` it on shutdown). The streams' REST
    requests (the markets; a listenKey, where ccxt logs in by REST) take their weight from
    ``limiter`` when given (its owner closes it), else from a limiter per exchange of the
    registry's own: not a run's, which closes with its run while the stream lives on."""

    def __init__(self, settings: Settings, *, limiter: RateLimiter | None = None) -> None:
        self.settings = settings
        self._limiter = limiter
        self._limiters: dict[str, RateLimiter] = {}
        self._hubs: dict[HubKey, AccountStream] = {}

    @property
    def open_streams(self) -> int:
        """Accounts with a stream open now."""
        return len(self._hubs)

    def join(
        self,
        exchange_id: str,
        symbol: str,
        *,
        api_key: str,
        secret: str,
        sandbox_url: str | None = None,
        account: str | None = None,
    ) -> UserStream:
        """``symbol``'s share of the account's stream (opened now if it has none); ``account``
        is the client charged for the stream's requests (the one whose run opens it)."""
        key: HubKey = (exchange_id, sandbox_url, fingerprint(api_key, secret))
        hub = self._hubs.get(key)
        if hub is None:
            exchange = make_exchange(
                exchange_id,
                api_key=api_key,
                secret=secret,
                sandbox_url=sandbox_url,
                timeout_ms=self.settings.EXCHANGE_TIMEOUT_MS,
                streams=True,
            )
            bind(exchange, self._limiter_of(exchange_id), account=account)
            hub = AccountStream(
                exchange,
                name=key[2],
                markets_key=markets_key(exchange_id, sandbox_url),
                on_closed=lambda closed: self._forget(key, closed),
            )
            self._hubs[key] = hub
        return hub.join(symbol)

    def _limiter_of(self, exchange_id: str) -> RateLimiter:
        if self._limiter is not None:
            return self._limiter
        limiter = self._limiters.get(exchange_id)
        if limiter is None:
            limiter = self._limiters[exchange_id] = RateLimiter.from_settings(
                self.settings, exchange_id
            )
        return limiter

    def _forget(self, key: HubKey, hub: AccountStream) -> None:
        if self._hubs.get(key) is hub:
            del self._hubs[key]

    async def close(self) -> None:
        """Close every stream (their runs fall back to REST) and the registry's limiters."""
        for hub in list(self._hubs.values()):
            await hub.close()
        for limiter in self._limiters.values():
            await limiter.close()
        self._limiters.clear()
