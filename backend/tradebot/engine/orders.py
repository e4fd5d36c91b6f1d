"""The order state machine as a table, with the edges real exchanges produce.

``SUBMITTING`` is written before a request leaves; a timeout makes an order ``UNKNOWN`` until
the venue answers for it. A cancelled order can still turn out filled (the cancel raced a fill),
and "not found" is never taken for "cancelled".
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    SUBMITTING = "submitting"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.SUBMITTING: frozenset({S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.REJECTED, S.UNKNOWN}),
    S.UNKNOWN: frozenset({S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED}),
    S.OPEN: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLING, S.CANCELLED, S.UNKNOWN}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLING, S.CANCELLED}),
    S.CANCELLING: frozenset({S.CANCELLED, S.FILLED, S.PARTIALLY_FILLED, S.OPEN, S.UNKNOWN}),
    S.CANCELLED: frozenset({S.FILLED, S.PARTIALLY_FILLED}),
    S.FILLED: frozenset(),
    S.REJECTED: frozenset(),
}
ACTIVE = frozenset({S.SUBMITTING, S.UNKNOWN, S.OPEN, S.PARTIALLY_FILLED, S.CANCELLING})
"""States in which an order may still rest on (or be about to reach) the exchange."""


class IllegalTransitionError(ValueError):
    pass


def transition(current: OrderStatus, new: OrderStatus) -> OrderStatus:
    """``new`` if the table allows it from ``current`` (staying put is always allowed)."""
    if new is current or new in TRANSITIONS[current]:
        return new
    raise IllegalTransitionError(f"order cannot go from {current.value} to {new.value}")
