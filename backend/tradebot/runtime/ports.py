"""The small protocols the run loop talks through, and the reports that cross them.

A venue is anything that gives prices and takes orders: the paper venue over a candle replay,
the paper venue over live prices, or a live exchange through ccxt. The run loop cannot tell
them apart, which is what makes a paper replay a test of the live code path.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from tradebot.engine.orders import OrderStatus
from tradebot.engine.types import MarketRules, Side
from tradebot.engine.walk import Direction

if TYPE_CHECKING:
    from tradebot.runtime.quiet import Quiet


@dataclass(frozen=True, slots=True)
class Tick:
    """A new market price. ``direction`` is None for a jump (no walk: nothing fills on it)."""

    ts: int
    price: float
    direction: Direction | None
    closes_candle: bool = False


class VenueOrderStatus(StrEnum):
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


ORDER_STATUS = {
    VenueOrderStatus.OPEN: OrderStatus.OPEN,
    VenueOrderStatus.FILLED: OrderStatus.FILLED,
    VenueOrderStatus.CANCELLED: OrderStatus.CANCELLED,
    VenueOrderStatus.REJECTED: OrderStatus.REJECTED,
}
"""Our status of an order the venue reports: the in-flight ones are ours alone."""


@dataclass(frozen=True, slots=True)
class OrderRequest:
    client_order_id: str
    side: Side
    qty: float
    price: float | None
    """None for a market order."""


@dataclass(frozen=True, slots=True)
class OrderReport:
    client_order_id: str
    exchange_order_id: str
    status: VenueOrderStatus
    filled_qty: float
    ts: int


@dataclass(frozen=True, slots=True)
class TradeReport:
    trade_id: str
    client_order_id: str
    side: Side
    price: float
    qty: float
    fee: float
    fee_currency: str
    ts: int


class VenueError(Exception):
    """Base of what a venue raises; ``retryable`` says whether trying again can help."""

    retryable = False


class TransientVenueError(VenueError):
    """Network trouble, timeouts, rate limits, 5xx: the request's effect is unknown."""

    retryable = True


class OrderRejectedError(VenueError):
    """The venue refused the order and did not create it."""

    def __init__(self, message: str, *, insufficient_funds: bool = False) -> None:
        super().__init__(message)
        self.insufficient_funds = insufficient_funds


class FatalVenueError(VenueError):
    """Authentication, permissions, an unknown pair: stop the run."""


class PriceFeed(Protocol):
    """Public prices of one pair: all a paper run needs of the market, and where a live run
    can take its ticks from (a stream shared by every run of the pair)."""

    async def market_rules(self) -> MarketRules: ...

    async def next_tick(self) -> Tick | None:
        """Wait for the next price; None when the feed has ended (a replay's last candle)."""
        ...

    async def close(self) -> None: ...


Done = Callable[[], None]
"""Told when a run is done with a tick: the orders it sent for it are answered."""


def nothing_to_tell() -> None:
    """The ``Done`` of a tick no one times."""


@runtime_checkable
class QuietFeed(PriceFeed, Protocol):
    """A feed shared by many runs that lets a run sleep through the ticks that change nothing
    for it (``runtime.quiet``)."""

    def quiet(self, quiet: Quiet) -> None:
        """Deliver only the ticks ``quiet`` says wake the run (until its next tick)."""
        ...

    def wake(self) -> None:
        """Deliver the latest price again now, if the run is asleep (news for it arrived by
        another path, e.g. a fill on the user-data stream)."""
        ...

    def passed(self) -> list[tuple[float, int]]:
        """The prices past the run's ``Quiet.lines`` that it slept through since its last
        tick, each with how long ago (ms) it came: its venue checks them against the fills
        it hears of."""
        ...

    def decided(self) -> Done:
        """The run has decided what the tick it was handed asks of it: its orders are about
        to go out, or none need to (the feed times event to decision). Told, what it answers
        says the tick is done: its orders answered (the feed times event to done)."""
        ...


class Venue(Protocol):
    """What the run loop needs from any market."""

    on_error: Callable[[VenueError], None] | None
    """Told of every error the venue recovered from by itself (a retried read), so the run's
    error budget sees it."""

    async def market_rules(self) -> MarketRules: ...

    async def next_tick(self) -> Tick | None:
        """Wait for the next price; None when the feed has ended (a replay's last candle)."""
        ...

    def fill_grace(self) -> int | None:
        """Within how long (ms) the venue's stream tells of a fill of an order the market
        traded through, while that stream is trusted; None while the run finds its fills by
        looking at the market (polls, a paper venue's matching)."""
        ...

    async def submit(self, request: OrderRequest) -> OrderReport: ...

    async def cancel(self, client_order_id: str) -> OrderReport | None: ...

    async def query(self, client_order_id: str) -> OrderReport | None:
        """The order's state, or None when the venue (still) does not know it."""
        ...

    async def open_among(self, client_order_ids: Collection[str]) -> dict[str, OrderReport]:
        """Which of these orders are open, in one read of the open orders: a listed order is
        known as a query would know it (and followed for fills from then on)."""
        ...

    async def new_trades(self) -> list[TradeReport]:
        """Our trades since the previous call, oldest first."""
        ...

    async def reconciled_trades(self) -> list[TradeReport]:
        """Trades the venue's periodic check of its orders found that ``new_trades`` missed
        (a stream's lost event), when that check is due: asked after the tick's decision, as
        the check is no news to decide on at once and its round trips would delay it."""
        ...

    async def trades_for(self, client_order_id: str) -> list[TradeReport]:
        """Every trade of one order (used when reconciling after a restart)."""
        ...

    async def recent_closes(self, count: int) -> tuple[list[float], int]:
        """Up to ``count`` latest candle closes (oldest first) and the timeframe in ms."""
        ...

    async def close(self) -> None: ...
