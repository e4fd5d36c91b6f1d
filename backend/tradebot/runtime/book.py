"""The book diff: which orders to place and which to cancel so the venue matches the grid.

Pure and total: it never places on a line whose order is in flight (submitting, unknown,
cancelling), because the fate of that order is not known yet and a second one could double
the position.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from tradebot.engine.orders import OrderStatus
from tradebot.engine.strategy import WantedOrder
from tradebot.engine.types import Side
from tradebot.runtime.store import StoredOrder

IN_FLIGHT = frozenset({OrderStatus.SUBMITTING, OrderStatus.UNKNOWN, OrderStatus.CANCELLING})
RESTING = frozenset({OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED})


@dataclass(slots=True)
class BookDiff:
    place: list[WantedOrder] = field(default_factory=list)
    cancel: list[StoredOrder] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.place or self.cancel)


def _matches(order: StoredOrder, wanted: WantedOrder) -> bool:
    return (
        order.side is wanted.side
        and math.isclose(order.price, wanted.price, rel_tol=1e-9)
        and math.isclose(order.qty, wanted.qty, rel_tol=1e-9)
    )


def diff_book(wanted: Iterable[WantedOrder], active: Iterable[StoredOrder]) -> BookDiff:
    by_line: dict[int, list[StoredOrder]] = {}
    for order in active:
        if order.kind == "limit" and order.line >= 0:  # line -1: the entry leg, not the grid's
            by_line.setdefault(order.line, []).append(order)
    diff = BookDiff()
    for want in wanted:
        orders = by_line.pop(want.line, [])
        keep = next((o for o in orders if o.status in RESTING and _matches(o, want)), None)
        busy = any(o.status in IN_FLIGHT for o in orders)
        stale = [o for o in orders if o is not keep and o.status in RESTING]
        diff.cancel.extend(stale)
        # A line gets a new order only once nothing else can still fill there.
        if keep is None and not busy and not stale:
            diff.place.append(want)
    for orders in by_line.values():  # lines the grid wants empty
        diff.cancel.extend(o for o in orders if o.status in RESTING)
    return diff


@dataclass(frozen=True, slots=True)
class Funds:
    """The grid's own balances (from its fills), before anything resting is set aside."""

    base: float
    quote: float


def affordable(
    places: list[WantedOrder],
    active: Iterable[StoredOrder],
    funds: Funds,
    maker_fee: float,
) -> list[WantedOrder]:
    """The new orders the balances can pay for once the working orders have theirs.

    ``funds`` are the grid's books, which take an order's trades in when it completes (or is
    cancelled): a working order holds its whole quantity, the part that traded (already spent
    on the exchange, not yet in the books) and the part that rests. Counting only what rests
    let a part-filled buy's spent quote pay for a new buy the exchange then refused.

    Sells nearest the price (lowest lines) and buys nearest the price (highest lines) come
    first: they are the ones about to trade. The rest wait; they are never sent to be rejected.
    """
    base, quote = funds.base, funds.quote
    for order in active:
        if order.kind != "limit":
            continue
        if order.side is Side.SELL:
            base -= order.qty
        else:
            quote -= order.qty * order.price * (1 + maker_fee)
    tolerance = 1e-9
    chosen: list[WantedOrder] = []
    for want in sorted(places, key=lambda w: w.line if w.side is Side.SELL else -w.line):
        if want.side is Side.SELL:
            if want.qty <= base * (1 + tolerance) + tolerance * want.qty:
                base -= want.qty
                chosen.append(want)
        else:
            cost = want.qty * want.price * (1 + maker_fee)
            if cost <= quote * (1 + tolerance) + tolerance * cost:
                quote -= cost
                chosen.append(want)
    return chosen


def whole_lots(qty: float, lot_step: float) -> float:
    """``qty`` up to a whole number of lot steps (as is with no step). Float sums leave the
    base a grid must buy back a hair under a step (0.0018999999999999998 for 0.0019), which
    the exchange client truncates by a whole step: that order would never fill what was
    stored for it, so its base and cost would never reach the grid's balances."""
    if lot_step <= 0:
        return qty
    decimals = max(0, -math.floor(math.log10(lot_step)) + 2)
    return round(math.ceil(qty / lot_step - 1e-6) * lot_step, decimals)
