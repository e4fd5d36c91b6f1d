"""A live exchange as a ``runtime.ports.Venue``, through async ccxt.

Order safety (the order-safety issue's rules, in code):
- an order POST is sent once: ccxt's own retries are off and nothing here resends it; after a
  timeout, a dropped connection or a 5xx the error says the order's state is unknown, and the
  run loop asks for it by client order id (reconciliation) before anything else happens;
- "order not found" is reported as not found (None), never as cancelled;
- reads (ticker, open orders, order status, trades) are safe to repeat and are retried with
  backoff and jitter, honouring Retry-After;
- every request first takes its weight from the shared, per-IP rate limiter when one is given,
  at its priority (orders, cancels, queries, reconciliation, routine polls).

With streams (``prices`` and ``stream``), ticks come from the pair's ticker stream and fills
from the account's user-data stream; REST is asked only where a stream cannot be trusted (see
``venues.user_stream``). Without them, fills are found by polling: each tick reads the ticker
and the open orders (weights 2 and 6 on Binance); an order of ours that is no longer open, or
whose filled amount grew, is asked for its trades. Either way every trade is reported once
(by its id), whatever path or paths brought it. Fees are reported valued in quote with the
currency they were charged in, which decides how the run books them: Binance spot takes a buy's
fee out of the base it delivers (valued at the fill price) or, on an account that pays fees with
BNB, in BNB (valued at BNB's last price).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, TypeVar

import ccxt

from tradebot.engine.types import MarketRules, Side
from tradebot.kit.hedge import first_answer
from tradebot.observability.logs import get_logger
from tradebot.runtime.ports import (
    OrderReport,
    OrderRequest,
    PriceFeed,
    QuietFeed,
    Tick,
    TradeReport,
    TransientVenueError,
    VenueError,
    VenueOrderStatus,
)
from tradebot.venues.ccxt_errors import OrderUnknownError, UnreachableError, translate
from tradebot.venues.markets import MARKETS
from tradebot.venues.rate_limit import Priority, RateLimiter
from tradebot.venues.rate_limit_ccxt import BinanceWeight as W
from tradebot.venues.rate_limit_ccxt import bind, throttled
from tradebot.venues.retry import Backoff, call_with_retries
from tradebot.venues.ticks import MINUTE_MS, TickMaker
from tradebot.venues.user_stream import Crossings, UserStream

T = TypeVar("T")
log = get_logger(__name__)

_STATUS = {
    "open": VenueOrderStatus.OPEN,
    "closed": VenueOrderStatus.FILLED,
    "canceled": VenueOrderStatus.CANCELLED,
    "cancelled": VenueOrderStatus.CANCELLED,
    "expired": VenueOrderStatus.CANCELLED,
    "rejected": VenueOrderStatus.REJECTED,
}


class CcxtVenue:
    def __init__(
        self,
        exchange: Any,
        symbol: str,
        *,
        poll_interval_ms: int = 2_000,
        limiter: RateLimiter | None = None,
        account: str | None = None,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
        before_poll: Callable[[], Awaitable[bool]] | None = None,
        prices: PriceFeed | None = None,
        stream: UserStream | None = None,
        reconcile_every_ms: int = 300_000,
        fill_grace_ms: int = 2_000,
        markets_key: str | None = None,
        hedge_after_ms: int = 0,
    ) -> None:
        self.exchange = exchange
        self.symbol = symbol
        self.poll_interval_ms = poll_interval_ms
        self.limiter = limiter
        self.account = account
        if limiter is not None:
            bind(exchange, limiter, account=account)
        self.backoff = backoff or Backoff(attempts=4, base_s=0.2, cap_s=5.0)
        self._clock = clock
        self.on_error: Callable[[VenueError], None] | None = None
        self._before_poll = before_poll
        """A sandbox's clock driver; returning False ends the feed."""
        self.prices = prices
        """Where ticks come from when not from a ticker poll of our own (a shared stream)."""
        self._passed: Callable[[], list[tuple[float, int]]] = (
            prices.passed if isinstance(prices, QuietFeed) else list
        )
        """The prices past our orders' lines the run slept through (``runtime.quiet``)."""
        self.stream = stream
        """The account's user-data stream: fills without polling (None: poll)."""
        if stream is not None:
            stream.on_news = self._news
            stream.known = self._known
        self.markets_key = markets_key
        """Where the process's shared markets of this exchange are kept (None: load our own)."""
        self.reconcile_every_ms = reconcile_every_ms
        self.fill_grace_ms = fill_grace_ms
        self.hedge_after_ms = hedge_after_ms
        """A query of orders or trades not answered by then is sent again beside it (0: never):
        a restart's book read costs that instead of a held request's whole timeout."""
        self._next_reconcile = 0.0
        self._check: asyncio.Task[tuple[float, set[str], list[dict[str, Any]]]] | None = None
        """The periodic check's read of the open orders, while it is out."""
        self._gap_polled = float("-inf")
        self._gap_wake: asyncio.TimerHandle | None = None
        self._crossings = Crossings()
        self._streamed_qty: dict[str, float] = {}
        """Traded amount reported per order of ours, by any path."""
        self._suspects: dict[str, int] = {}
        """Orders whose fills the stream owes us (their update says more filled than their
        trades show), since when."""
        self._unmatched: list[tuple[int, dict[str, Any]]] = []
        """Streamed trades of an order not known yet (its ack may come after its fill)."""
        # The order POST is ours to never repeat; reads are retried by call_with_retries.
        exchange.options["maxRetriesOnFailure"] = 0
        exchange.fetchHistoryCacheSize = 0  # would keep signed request headers in memory
        self._last_poll = 0.0
        self._ticks = TickMaker()
        self._watch: dict[str, float] = {}
        """Our client order ids believed working, with the filled amount last seen."""
        self._sending: set[str] = set()
        """Our client order ids whose placing has not been answered yet."""
        self._exchange_ids: dict[str, str] = {}
        self._order_of: dict[str, str] = {}
        """exchange order id -> client order id"""
        self._reported: set[str] = set()
        self.lost_sight: set[str] = set()
        """Our orders gone from the open orders that the exchange does not show yet (neither
        the order nor its trades): their fills are still to come."""

    # ---- plumbing -----------------------------------------------------------------------
    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def _request(
        self,
        weight: int,
        call: Callable[[], Awaitable[T]],
        *,
        priority: Priority,
        ccxt_weight: int | None = None,
        hedged: bool = False,
    ) -> T:
        """One request, its weight taken from the shared per-IP limiter first (when given):
        orders first, then cancels, queries, reconciliation, and routine polls last (they
        also yield when the budget runs short). ``hedged`` (a read that changes nothing): sent
        again if unanswered ``hedge_after_ms`` after it went out, the copy paying its own
        weight; the first answer counts."""

        async def once(send: Callable[[], Awaitable[T]]) -> T:
            if self.limiter is None:
                return await send()
            return await throttled(
                self.limiter,
                weight,
                send,
                account=self.account,
                is_order=priority is Priority.ORDER,
                max_wait=30.0,
                priority=priority,
                ccxt_weight=ccxt_weight,
            )

        if not hedged or self.hedge_after_ms <= 0:
            return await once(call)
        # The delay runs from the send, not from the wait for weight: a short budget must not
        # double the reads that wait for it.
        after_s = self.hedge_after_ms / 1000
        return await once(lambda: first_answer(call, after_s, lambda: once(call)))

    async def _read(
        self,
        weight: int,
        call: Callable[[], Awaitable[T]],
        *,
        priority: Priority = Priority.RECONCILE,
        ccxt_weight: int | None = None,
        hedged: bool = False,
    ) -> T:
        return await call_with_retries(
            lambda: self._request(
                weight, call, priority=priority, ccxt_weight=ccxt_weight, hedged=hedged
            ),
            lambda exc: translate(exc, self.exchange),
            self.backoff,
            catch=(ccxt.BaseError,),
            on_retry=self._retrying,
        )

    def _retrying(self, error: VenueError, delay: float) -> None:
        log.info("venue_retry", error=str(error), delay_s=round(delay, 3))
        if self.on_error is not None:
            self.on_error(error)

    # ---- market -------------------------------------------------------------------------
    async def _load_markets(self) -> None:
        await self._read(W.EXCHANGE_INFO, self.exchange.load_markets)

    async def market_rules(self) -> MarketRules:
        if self.markets_key is None:
            await self._load_markets()
        else:
            await MARKETS.load(self.exchange, self.markets_key, self._load_markets)
        if self.symbol not in self.exchange.markets:
            raise VenueError(f"{self.exchange.id} does not list {self.symbol}")
        market = self.exchange.market(self.symbol)
        limits = market.get("limits") or {}
        precision = market.get("precision") or {}
        return MarketRules(
            tick_size=float(precision.get("price") or 0.0),
            lot_step=float(precision.get("amount") or 0.0),
            min_notional=float((limits.get("cost") or {}).get("min") or 0.0),
            min_qty=float((limits.get("amount") or {}).get("min") or 0.0),
        )

    def fill_grace(self) -> int | None:
        trusted = self.stream is not None and not self.stream.gap
        return self.fill_grace_ms if trusted else None

    async def next_tick(self) -> Tick | None:
        if self.prices is not None:
            tick = await self.prices.next_tick()
            if tick is not None:
                now = self._now_ms()
                for price, ago in self._passed():
                    self._crossings.see(price, now - ago)
                self._crossings.see(tick.price, now)
            return tick
        wait = self._last_poll + self.poll_interval_ms / 1000 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_poll = time.monotonic()
        if self._before_poll is not None and not await self._before_poll():
            return None
        return self._ticks.tick(*await self.ticker())

    def _wake_for_gap(self) -> None:
        """A run asleep on a shared feed is woken when its next gap poll is due: left to the
        market's next tick for it, a gap opened at a run's start was closed minutes later, by
        polls in the middle of the steady state."""
        if self._gap_wake is None:
            due = self._next_gap_poll() - time.monotonic()
            loop = asyncio.get_running_loop()
            self._gap_wake = loop.call_later(max(0.0, due), self._gap_woken)

    def _next_gap_poll(self) -> float:
        """When a poll for fills is due while the stream is in a gap (monotonic seconds). A
        socket that waits for the IP's turn to open may wait many minutes after a cold start
        of a thousand accounts: meanwhile the run checks its book as often as a trusted stream
        does, its fills found by the market's crossings, or the IP's budget would go to their
        polls."""
        assert self.stream is not None
        every = self.reconcile_every_ms if self.stream.turn_pending else self.poll_interval_ms
        return self._gap_polled + every / 1000

    def _gap_woken(self) -> None:
        self._gap_wake = None
        self._news()

    def _known(self, row: Mapping[str, Any]) -> bool:
        """An update of an order of ours that says what the run knows or is about to hear by
        REST: working, with no more filled than seen (its acknowledgement, or a copy). A run
        sending orders heard its own acknowledgements as news and decided again on nothing."""
        coid = str(row.get("clientOrderId") or "")
        seen = self._watch.get(coid, 0.0 if coid in self._sending else None)
        filled = float(row.get("filled") or 0.0)
        return row.get("status") == "open" and seen is not None and filled <= seen

    def _news(self) -> None:
        """The user-data stream has something: a run asleep on a shared feed wakes for it."""
        if isinstance(self.prices, QuietFeed):
            self.prices.wake()

    async def ticker(self) -> tuple[int, float]:
        """The last traded price and its time, by REST (a routine read)."""
        ticker = await self._read(
            W.TICKER, lambda: self.exchange.fetch_ticker(self.symbol), priority=Priority.ROUTINE
        )
        return int(ticker.get("timestamp") or self._now_ms()), float(ticker["last"])

    async def recent_closes(self, count: int) -> tuple[list[float], int]:
        rows = await self._read(
            W.KLINES, lambda: self.exchange.fetch_ohlcv(self.symbol, "1m", limit=count)
        )
        return [float(r[4]) for r in rows], MINUTE_MS

    # ---- orders -------------------------------------------------------------------------
    async def submit(self, request: OrderRequest) -> OrderReport:
        """Send once. Any failure that may have reached the exchange raises a transient error:
        the caller then asks for the order by its client id; it never sends it again."""
        kind = "market" if request.price is None else "limit"
        params: dict[str, Any] = {"newClientOrderId": request.client_order_id}
        if kind == "limit":
            params["timeInForce"] = "GTC"
        started = time.monotonic()
        self._sending.add(request.client_order_id)
        try:
            order = await self._request(
                W.ORDER_CREATE,
                lambda: self.exchange.create_order(
                    self.symbol, kind, request.side.value, request.qty, request.price, params
                ),
                priority=Priority.ORDER,
            )
        except ccxt.BaseError as exc:
            raise translate(exc, self.exchange) from exc
        finally:
            self._sending.discard(request.client_order_id)
        self._watch[request.client_order_id] = 0.0
        report = self._report(order, request.client_order_id)
        log.info(
            "execution_metrics",
            stage="ack",
            client_order_id=request.client_order_id,
            latency_ms=round((time.monotonic() - started) * 1000, 1),
            kind=kind,
        )
        return report

    async def cancel(self, client_order_id: str) -> OrderReport | None:
        try:
            order = await self._request(
                W.ORDER_CANCEL,
                lambda: self.exchange.cancel_order(
                    self._exchange_ids.get(client_order_id),
                    self.symbol,
                    {"origClientOrderId": client_order_id},
                ),
                priority=Priority.CANCEL,
            )
        except ccxt.BaseError as exc:
            error = translate(exc, self.exchange)
            if isinstance(error, OrderUnknownError) or not error.retryable:
                # Already filled, already cancelled, or not (yet) known: ask, never guess.
                return await self.query(client_order_id)
            raise error from exc
        return self._report(order, client_order_id)

    async def query(self, client_order_id: str) -> OrderReport | None:
        try:
            order = await self._read(
                W.ORDER_QUERY,
                lambda: self.exchange.fetch_order(
                    None, self.symbol, {"origClientOrderId": client_order_id}
                ),
                priority=Priority.QUERY,
                hedged=True,
            )
        except OrderUnknownError:
            return None
        report = self._report(order, client_order_id)
        if report.status is VenueOrderStatus.OPEN:
            self._watch.setdefault(client_order_id, 0.0)
        return report

    async def open_among(self, client_order_ids: Collection[str]) -> dict[str, OrderReport]:
        listed = self._reports_among(await self._open_rows(), client_order_ids)
        for coid in listed:
            self._watch.setdefault(coid, 0.0)  # as ``query`` does: its fills are ours to see
        return listed

    async def _open_rows(self, priority: Priority = Priority.RECONCILE) -> list[dict[str, Any]]:
        """The pair's open orders of the account, other runs' included (a restart's
        reconciliation asks; a poll for fills passes ``ROUTINE``)."""
        rows: list[dict[str, Any]] = await self._read(
            W.OPEN_ORDERS,
            lambda: self.exchange.fetch_open_orders(self.symbol),
            priority=priority,
            hedged=priority is not Priority.ROUTINE,
        )
        return rows

    def _reports_among(
        self, rows: list[dict[str, Any]], client_order_ids: Collection[str]
    ) -> dict[str, OrderReport]:
        """Our orders among the account's: only they are reported (and their prices watched
        for crossings; the other runs' orders are theirs to follow)."""
        found = {}
        for row in rows:
            coid = row.get("clientOrderId") or ""
            if coid in client_order_ids:
                found[coid] = self._report(row, coid)
        return found

    def _report(self, order: Mapping[str, Any], client_order_id: str) -> OrderReport:
        exchange_id = str(order.get("id") or "")
        if exchange_id:
            self._exchange_ids[client_order_id] = exchange_id
            self._order_of[exchange_id] = client_order_id
        status = _STATUS.get(str(order.get("status") or "open"), VenueOrderStatus.OPEN)
        price, side = order.get("price"), order.get("side")
        if status is VenueOrderStatus.OPEN and price and side in ("buy", "sell"):
            self._crossings.rest(client_order_id, Side(side), float(price))
        else:
            self._crossings.forget(client_order_id)
        return OrderReport(
            client_order_id,
            exchange_id,
            status,
            float(order.get("filled") or 0.0),
            int(order.get("lastUpdateTimestamp") or order.get("timestamp") or self._now_ms()),
        )

    # ---- fills --------------------------------------------------------------------------
    async def new_trades(self) -> list[TradeReport]:
        if self.stream is None:
            return await self._poll_trades()
        return await self._stream_trades()

    async def _stream_trades(self) -> list[TradeReport]:
        """Trades from the user-data stream; REST only where the stream cannot be trusted
        (see ``venues.user_stream``)."""
        assert self.stream is not None
        self.stream.start()  # once: from then on the stream listens, a gap until reconciled
        started = time.monotonic()
        trades: list[TradeReport] = []
        # While the stream is down, as often as polling would: every tick of a thousand runs
        # spent the IP's budget that their restarts needed.
        if self.stream.gap and started >= self._next_gap_poll():
            trades = await self._reconcile(started)
        if self.stream.gap:
            self._wake_for_gap()
        trades += await self._streamed()
        now = self._now_ms()
        due = {c for c, at in self._suspects.items() if now - at >= self.fill_grace_ms}
        due.update(self._crossings.overdue(now, self.fill_grace_ms))
        for coid in sorted(due & self._watch.keys()):
            log.info("stream_fill_missing", client_order_id=coid)
            self._suspects.pop(coid, None)
            report = await self.query(coid)
            trades += await self.trades_for(coid)
            if report is not None and report.status is not VenueOrderStatus.OPEN:
                self._done(coid)
        return trades

    async def reconciled_trades(self) -> list[TradeReport]:
        """The stream's check by REST every ``reconcile_every_ms`` (a gap's is in
        ``new_trades``: the stream cannot be trusted then). Its read of the open orders goes
        on in the background, the run woken when it is back: a tick that came meanwhile is
        decided on at once instead of waiting for the round trip (behind a thousand runs'
        checks, seconds). What it found is settled at the run's next call."""
        if self.stream is None:
            return []
        check = self._check
        if check is None:
            started = time.monotonic()
            if started >= self._next_reconcile:
                self._check = asyncio.create_task(self._read_open(started))
                self._check.add_done_callback(self._check_back)
            return []
        if not check.done():
            return []
        self._check = None
        started, watched, rows = check.result()  # its error is the run's, as a read's is
        # Only the orders it saw that are still watched: one placed since is not in its list
        # and one done since is settled already.
        trades = await self._settle_polled(rows, watched & self._watch.keys())
        self._checked(started)
        return trades

    def _check_back(self, check: asyncio.Task[Any]) -> None:
        if not check.cancelled():  # cancelled: the venue is closing, its run gone
            self._news()

    async def _read_open(self, started: float) -> tuple[float, set[str], list[dict[str, Any]]]:
        watched = set(self._watch)
        rows = await self._open_rows() if watched else []
        return started, watched, rows

    def _checked(self, started: float) -> None:
        """The stream is trusted again up to ``started``, and checked again a period later."""
        assert self.stream is not None
        self._gap_polled = started
        self.stream.reconciled(started)
        self._next_reconcile = started + self.reconcile_every_ms / 1000

    async def _reconcile(self, started: float) -> list[TradeReport]:
        self._gap_polled = started  # a failed poll too: the next waits its interval
        trades = await self._poll_trades()
        self._checked(started)
        return trades

    async def _streamed(self) -> list[TradeReport]:
        """The stream's new trades of our orders, each once, and what its order updates say:
        an order done with all its trades in hand leaves the watch; one whose update shows
        more filled than its trades is owed trades (asked by REST if they do not come)."""
        assert self.stream is not None
        rows, orders = self.stream.take()
        now = self._now_ms()
        waiting, self._unmatched = self._unmatched, []
        found: list[TradeReport] = []
        for seen_at, row in [*waiting, *((now, r) for r in rows)]:
            coid = self._order_of.get(str(row.get("order") or "")) or _client_id(row)
            if coid is None or coid not in self._watch:
                if now - seen_at < self.fill_grace_ms * 5:
                    self._unmatched.append((seen_at, row))  # its ack may still be coming
                continue
            trade_id = f"{self.symbol}:{row['id']}"
            if trade_id not in self._reported:
                self._reported.add(trade_id)
                found.append(await self._trade(row, trade_id, coid))
        for order in orders:
            coid = self._order_of.get(str(order.get("id") or "")) or order.get("clientOrderId")
            if not coid or coid not in self._watch:
                continue
            report = self._report(order, coid)
            self._watch[coid] = max(self._watch[coid], report.filled_qty)
            if self._owed(coid):
                self._suspects.setdefault(coid, now)
            elif report.status is not VenueOrderStatus.OPEN:
                self._done(coid)
        for coid in list(self._suspects):
            if coid not in self._watch or not self._owed(coid):
                del self._suspects[coid]
        return found

    def _owed(self, coid: str) -> bool:
        return self._watch.get(coid, 0.0) > self._traded(coid)

    def _traded(self, coid: str) -> float:
        return self._streamed_qty.get(coid, 0.0) + 1e-12

    def _done(self, coid: str) -> None:
        self._watch.pop(coid, None)
        self._suspects.pop(coid, None)
        self._crossings.forget(coid)

    async def _poll_trades(self) -> list[TradeReport]:
        """Trades of our orders that stopped being open or filled more since the last poll."""
        if not self._watch:
            return []
        rows = await self._open_rows(Priority.RECONCILE if self.stream else Priority.ROUTINE)
        return await self._settle_polled(rows, set(self._watch))

    async def _settle_polled(
        self, rows: list[dict[str, Any]], watched: Collection[str]
    ) -> list[TradeReport]:
        """The trades of the ``watched`` orders that the open orders ``rows`` show gone or
        filled more.

        An order leaves the watch only once its trades are in hand, and trades already fetched
        are returned even when a later request of the poll fails: ``trades_for`` reports each
        trade once, so trades dropped with an exception would never be seen by this run."""
        open_now = {c: r.filled_qty for c, r in self._reports_among(rows, watched).items()}
        trades: list[TradeReport] = []
        try:
            for coid in [c for c in self._watch if c in watched]:
                seen_filled = self._watch.get(coid)
                if seen_filled is None:  # settled while this poll asked about another
                    continue
                still_open = coid in open_now
                if still_open and open_now[coid] <= seen_filled:
                    self.lost_sight.discard(coid)
                    continue
                done = False
                report: OrderReport | None = None
                if not still_open:
                    report = await self.query(coid)
                    # Not known to the order endpoint (yet) is not "cancelled": its trades,
                    # when the exchange already shows them, still tell that it filled.
                    done = report is not None and report.status is not VenueOrderStatus.OPEN
                found = await self.trades_for(coid)
                trades.extend(found)
                if not still_open and report is None and not found:
                    self.lost_sight.add(coid)
                else:
                    self.lost_sight.discard(coid)
                if done:
                    self._done(coid)
                elif still_open:
                    self._watch[coid] = open_now[coid]
        except TransientVenueError as exc:
            if not trades:
                raise
            # What was fetched counts now; the orders not yet asked about are asked next poll.
            log.info("venue_poll_cut_short", error=str(exc), trades=len(trades))
            if self.on_error is not None:
                self.on_error(exc)
        return trades

    async def trades_for(self, client_order_id: str) -> list[TradeReport]:
        exchange_id = self._exchange_ids.get(client_order_id)
        if exchange_id is None:
            report = await self.query(client_order_id)
            if report is None or not report.exchange_order_id:
                return []
            exchange_id = report.exchange_order_id
        rows = await self._read(
            W.MY_TRADES_OF_ORDER,
            lambda: self.exchange.fetch_my_trades(self.symbol, params={"orderId": exchange_id}),
            priority=Priority.QUERY,
            ccxt_weight=W.MY_TRADES,
            hedged=True,
        )
        found = []
        for row in rows:
            trade_id = f"{self.symbol}:{row['id']}"
            if trade_id in self._reported:
                continue
            self._reported.add(trade_id)
            found.append(await self._trade(row, trade_id, client_order_id))
        return found

    async def _trade(
        self, row: Mapping[str, Any], trade_id: str, client_order_id: str
    ) -> TradeReport:
        price = float(row["price"])
        fee = row.get("fee") or {}
        cost = float(fee.get("cost") or 0.0)
        currency = str(fee.get("currency") or "")
        base, quote = self.symbol.split("/")
        if currency == base:
            fee_quote = cost * price
        elif currency == quote or not cost:
            fee_quote = cost
        else:
            fee_quote = cost * await self._price_in_quote(currency, quote)
        amount = float(row["amount"])
        self._streamed_qty[client_order_id] = self._streamed_qty.get(client_order_id, 0.0) + amount
        return TradeReport(
            trade_id,
            client_order_id,
            Side(row["side"]),
            price,
            amount,
            fee_quote,
            currency,
            int(row.get("timestamp") or self._now_ms()),
        )

    async def _price_in_quote(self, asset: str, quote: str) -> float:
        """The last price of ``asset`` (BNB paying fees) in quote; 0, and a warning, when the
        exchange lists no such pair or cannot say now: the fee then goes unvalued rather than
        guessed, and the trade (already taken from the stream or marked reported) is not lost."""
        pair = f"{asset}/{quote}"
        if pair in (self.exchange.markets or {}):
            try:
                ticker = await self._read(W.TICKER, lambda: self.exchange.fetch_ticker(pair))
                return float(ticker["last"] or 0.0)
            except VenueError as exc:
                log.warning("fee_unvalued", asset=asset, pair=pair, error=str(exc))
                return 0.0
        log.warning("fee_unvalued", asset=asset, pair=pair)
        return 0.0

    async def close(self) -> None:
        if self._gap_wake is not None:
            self._gap_wake.cancel()
        if self._check is not None:
            self._check.cancel()
            await asyncio.gather(self._check, return_exceptions=True)
        if self.stream is not None:
            await self.stream.close()
        await self.exchange.close()


def _client_id(row: Mapping[str, Any]) -> str | None:
    """Our client order id on a streamed trade (Binance's ``c``), for a trade that arrives
    before its order's ack told us the exchange's id."""
    info = row.get("info")
    value = info.get("c") if isinstance(info, Mapping) else None
    return str(value) if value else None


__all__ = ["CcxtVenue", "UnreachableError"]
