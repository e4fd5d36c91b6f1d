"""One run's orders and trades on one pair, from its account's user-data stream.

With the stream up, a run learns of its fills without asking: no open-orders poll (weight 6 on
Binance) every couple of seconds. The account's one stream is shared by every run of the account
in the process (``venues.account_streams``); each run holds a ``UserStream`` of its pair's rows.
Streams lose things, so the venue that reads one still asks by REST when it cannot be sure
(``CcxtVenue``):

- after a gap: before the run is known to be listening (its account's socket may wait for the
  IP's turn to open: ``RateLimiter.connect``), after any error of the account's stream (ccxt
  reconnects on the next watch), the run may have missed events. The gap is closed only
  by the run's own full REST reconciliation that started ``settle_s`` after the later of the
  stream's (re)subscription and the run's joining it (rows reach a run only from then);
- when the market says a fill is missing: a resting order whose price the market has traded
  through must have filled (``Crossings``); no trade on the stream ``grace`` later means a
  stalled stream (a socket can stay open and say nothing), and that order is asked for;
- every ``reconcile_every`` anyway, as a last net.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from tradebot.engine.types import Side

Row = dict[str, Any]
BUFFER = 10_000
"""Events held for a reader that does not come (a bound, not a working size)."""


class Hub(Protocol):
    """The account's stream a run's ``UserStream`` is part of (``AccountStream``)."""

    def start(self) -> None: ...

    async def leave(self, stream: UserStream) -> None: ...


class UserStream:
    def __init__(
        self,
        hub: Hub,
        symbol: str,
        *,
        settle_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.symbol = symbol
        self.settle_s = settle_s
        self._hub = hub
        self._clock = clock
        self._trades: deque[Row] = deque(maxlen=BUFFER)
        self._orders: deque[Row] = deque(maxlen=BUFFER)
        self._subscribed_at = clock()
        """Since when rows surely reach this run (its joining, a later (re)subscription)."""
        self._gap = True
        self._turn_pending = False
        """The account's socket waits for the IP's turn to open: no proof of listening yet."""
        self.errors = 0
        self.on_news: Callable[[], None] = lambda: None
        """Called when events arrive (the run may be asleep on a shared feed: wake it)."""
        self.known: Callable[[Row], bool] = lambda _row: False
        """Whether an order update tells the run nothing it does not know (its own order's
        acknowledgement, while or after its REST answer says the same): kept for the run's
        next look, it wakes no one."""

    def start(self) -> None:
        """Listen (the account's stream starts reading, if it was not yet)."""
        self._hub.start()

    @property
    def gap(self) -> bool:
        """Events may have been missed since the last full reconciliation."""
        return self._gap

    def reconciled(self, started_at: float) -> None:
        """A full REST reconciliation that started at ``started_at`` is done: it covers
        whatever the stream missed before, once the stream was surely listening by then."""
        if not self._turn_pending and started_at >= self._subscribed_at + self.settle_s:
            self._gap = False

    def take(self) -> tuple[list[Row], list[Row]]:
        """Trades and order updates received since the last call, in arrival order."""
        trades, orders = list(self._trades), list(self._orders)
        self._trades.clear()
        self._orders.clear()
        return trades, orders

    # ---- from the account's stream ------------------------------------------------------------
    def add_trades(self, rows: list[Row]) -> None:
        self._trades.extend(rows)
        self.on_news()

    def add_orders(self, rows: list[Row]) -> None:
        self._orders.extend(rows)
        if not all(self.known(row) for row in rows):
            self.on_news()

    def listening_from(self, at: float) -> None:
        """The account's stream subscribes at ``at``: what came before may not have reached
        this run."""
        self._subscribed_at = max(self._subscribed_at, at)

    @property
    def turn_pending(self) -> bool:
        """The account's socket waits for the IP's turn to open."""
        return self._turn_pending

    def awaiting_turn(self) -> None:
        """The account's socket waits for the IP's turn to open (``RateLimiter.connect``):
        nothing reaches this run, and no reconciliation closes its gap, until it opens."""
        self._turn_pending = True
        self._gap = True

    def socket_opens(self, at: float) -> None:
        """The account's socket had its turn and subscribes at ``at``."""
        self._turn_pending = False
        self.listening_from(at)

    def down(self, again_at: float) -> None:
        """The account's stream failed; it subscribes again at ``again_at``."""
        self.errors += 1
        self._gap = True
        self.listening_from(again_at)
        self.on_news()  # a gap to reconcile

    async def close(self) -> None:
        await self._hub.leave(self)


class Crossings:
    """Our resting limit orders, and since when the market has traded through each one's
    price (it must have filled by then: a trade below a resting buy cannot happen before the
    buy is taken)."""

    def __init__(self) -> None:
        self._orders: dict[str, tuple[Side, float]] = {}
        self._crossed: dict[str, int] = {}
        self._band: tuple[float, float] | None = None
        """The highest buy and the lowest sell: a price between them crosses nothing."""

    def rest(self, client_order_id: str, side: Side, price: float) -> None:
        self._orders[client_order_id] = (side, price)
        self._band = None

    def forget(self, client_order_id: str) -> None:
        if self._orders.pop(client_order_id, None) is not None:
            self._band = None
        self._crossed.pop(client_order_id, None)

    def see(self, price: float, now_ms: int) -> None:
        if self._band is None:
            buys = [p for side, p in self._orders.values() if side is Side.BUY]
            sells = [p for side, p in self._orders.values() if side is Side.SELL]
            self._band = (max(buys, default=float("-inf")), min(sells, default=float("inf")))
        if self._band[0] <= price <= self._band[1]:
            return  # the usual tick: nothing is crossed, nothing to look at
        for coid, (side, limit) in self._orders.items():
            through = price < limit if side is Side.BUY else price > limit
            if through:
                self._crossed.setdefault(coid, now_ms)

    def overdue(self, now_ms: int, grace_ms: int) -> list[str]:
        """Orders traded through more than ``grace_ms`` ago; each is reported once (a later
        price through it reports it again)."""
        due = [c for c, at in self._crossed.items() if now_ms - at >= grace_ms]
        for coid in due:
            del self._crossed[coid]
        return due
