"""One user-data stream per exchange account per process, fanned out to every run of it.

A customer with five bots on one exchange account used to open five user-data streams (five
subscriptions, five sockets, five logins' weight). Here the account has one stream
(``AccountStream``) and every run of the account takes the rows of its pair from it (a
``UserStream`` each). The stream is read on the connection of one of the account's runs: each
run lends its own ccxt client as it joins, so sharing adds no client (a client of its own per
account doubled the clients of a worker whose customers run one bot each, and with them its
memory and garbage-collection pauses: a thousand runs' decisions slowed from 44 ms to 3 s at
p99). When the run whose connection carries the stream leaves and others stay, the stream moves
to another's connection: a gap for each run, closed by its own REST reconciliation.

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

from tradebot.observability.logs import get_logger
from tradebot.venues.markets import MARKETS, markets_key
from tradebot.venues.rate_limit import Priority, RateLimiter
from tradebot.venues.rate_limit_ccxt import BinanceWeight as W
from tradebot.venues.stream_pump import RECONNECT, pump
from tradebot.venues.user_stream import Row, UserStream

log = get_logger(__name__)
HubKey = tuple[str, str | None, str]
"""(exchange id, sandbox URL, key fingerprint)."""


def fingerprint(api_key: str, secret: str) -> str:
    """The account, named without its key: hub keys end up in logs and debugger dumps."""
    return hashlib.sha256(f"{api_key}\n{secret}".encode()).hexdigest()[:16]


class AccountStream:
    """One account's user-data stream, read on a connection one of its runs lent: started by
    the first run's ``start()``, stopped when its last run leaves. It closes no client: each
    belongs to its run."""

    def __init__(
        self,
        *,
        name: str,
        markets_key: str,
        on_closed: Callable[[AccountStream], None] = lambda _: None,
        settle_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.name = name
        """The account's fingerprint (what logs say)."""
        self.markets_key = markets_key
        self.settle_s = settle_s
        self._clock = clock
        self._on_closed = on_closed
        self._runs: dict[str, list[UserStream]] = {}
        """symbol -> the runs of it"""
        self._lent: dict[UserStream, Any] = {}
        """Each run's own exchange client (the stream is read on one of them)."""
        self.exchange: Any = None
        """The client the stream is read on."""
        self._readers: list[asyncio.Task[None]] = []
        self.closed = False
        self._limiter = limiter
        """The IP's: the account's socket opens at the IP's turn (``RateLimiter.connect``)."""
        self._turn: asyncio.Task[None] | None = None
        """The turn of the socket about to open, which both readers share."""

    def join(self, symbol: str, exchange: Any) -> UserStream:
        """A run's stream of ``symbol``'s rows (they reach it from now on); ``exchange`` is
        the run's own client, which the stream may be read on while the run lasts."""
        stream = UserStream(self, symbol, settle_s=self.settle_s, clock=self._clock)
        if self._turn is not None and not self._turn.done():
            stream.awaiting_turn()
        self._runs.setdefault(symbol, []).append(stream)
        self._lent[stream] = exchange
        if self.exchange is None:
            self.exchange = exchange
        return stream

    def start(self) -> None:
        """Read, if not reading yet (and not closed)."""
        if self._readers or self.closed:
            return
        now = self._clock()
        for stream in self._all():
            stream.listening_from(now)
        self._read_on(self.exchange)

    async def leave(self, stream: UserStream) -> None:
        """``stream``'s run is closing (before its client closes)."""
        runs = self._runs.get(stream.symbol, [])
        if stream in runs:
            runs.remove(stream)
            if not runs:
                del self._runs[stream.symbol]
        lent = self._lent.pop(stream, None)
        if not self._runs:
            await self.close()
        elif lent is self.exchange:
            await self._move()

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._on_closed(self)  # before any await: a run joining meanwhile opens a new one
        await self._stop_reading()
        for stream in self._all():  # runs still here (a worker's shutdown) fall back to REST
            stream.down(self._clock())

    async def _move(self) -> None:
        """Carry on reading on another run's client: the leaving run's closes next."""
        reading = bool(self._readers)
        await self._stop_reading()
        self.exchange = next(iter(self._lent.values()))
        if not reading:
            return
        again = self._clock()
        for stream in self._all():
            stream.down(again)  # what came while it moved may have reached no one
        log.info("user_stream_moved", account=self.name, runs=len(self._all()))
        self._read_on(self.exchange)

    def _read_on(self, exchange: Any) -> None:
        self._readers = [
            asyncio.create_task(
                self._read(exchange, exchange.watch_my_trades, UserStream.add_trades)
            ),
            asyncio.create_task(self._read(exchange, exchange.watch_orders, UserStream.add_orders)),
        ]

    async def _stop_reading(self) -> None:
        readers, self._readers = self._readers, []
        if self._turn is not None:
            self._turn.cancel()
            self._turn = None
        for task in readers:
            task.cancel()
        for task in readers:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _all(self) -> list[UserStream]:
        return [stream for streams in self._runs.values() for stream in streams]

    async def _read(
        self,
        exchange: Any,
        watch: Callable[[], Awaitable[list[Row]]],
        add: Callable[[UserStream, list[Row]], None],
    ) -> None:
        async def rows() -> list[Row]:
            if exchange.markets is None:  # ccxt would load its own: 20 weight
                await MARKETS.load(exchange, self.markets_key, exchange.load_markets)
            return await watch()

        def arrived(batch: list[Row]) -> None:
            by_symbol: defaultdict[str, list[Row]] = defaultdict(list)
            for row in batch:
                by_symbol[str(row.get("symbol"))].append(row)
            for symbol, mine in by_symbol.items():
                for stream in self._runs.get(symbol, []):
                    add(stream, mine)

        await pump(rows, arrived, self._down, RECONNECT, self._connecting)

    async def _connecting(self) -> None:
        """The account's socket is about to open (both readers' watches share it): at the IP's
        turn. Runs count the stream as listening from then, not from when it was asked for."""
        if self._limiter is None:
            return
        if self._turn is None:
            self._turn = asyncio.create_task(self._take_turn(self._limiter))
        elif self._turn.done():
            self._turn.result()  # the other reader's watch took this socket's turn (or failed)
            return
        for stream in self._all():
            stream.awaiting_turn()
        await asyncio.shield(self._turn)
        now = self._clock()
        for stream in self._all():
            stream.socket_opens(now)

    @staticmethod
    async def _take_turn(limiter: RateLimiter) -> None:
        """The IP's turn for a new socket, then the weight of the subscription its first
        watch sends (ccxt.pro subscribes once a socket): it reaches the exchange as any
        request does, so it is counted as one."""
        await limiter.connect()
        await limiter.acquire(W.USER_STREAM_SUBSCRIBE, priority=Priority.RECONCILE)

    def _down(self, error: Exception, retry_s: float) -> None:
        self._turn = None  # the next socket takes a turn of its own
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
    """The process's account streams, one per (exchange, sandbox URL, account key). A worker
    holds one for all its runs (``close`` it on shutdown)."""

    def __init__(self) -> None:
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
        exchange: Any,
        api_key: str,
        secret: str,
        sandbox_url: str | None = None,
        limiter: RateLimiter | None = None,
    ) -> UserStream:
        """``symbol``'s share of the account's stream (opened now if it has none); ``exchange``
        is the joining run's own client, bound to the request budget (the stream may be read
        on it while the run lasts); ``limiter``, the IP's, spaces the sockets it opens."""
        key: HubKey = (exchange_id, sandbox_url, fingerprint(api_key, secret))
        hub = self._hubs.get(key)
        if hub is None:
            hub = AccountStream(
                name=key[2],
                markets_key=markets_key(exchange_id, sandbox_url),
                on_closed=lambda closed: self._forget(key, closed),
                limiter=limiter,
            )
            self._hubs[key] = hub
        return hub.join(symbol, exchange)

    def _forget(self, key: HubKey, hub: AccountStream) -> None:
        if self._hubs.get(key) is hub:
            del self._hubs[key]

    async def close(self) -> None:
        """Stop every stream (their runs fall back to REST; each closes its own client)."""
        for hub in list(self._hubs.values()):
            await hub.close()
