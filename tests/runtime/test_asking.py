"""The schedule of asks about orders in doubt: at once, then backing off, reset once settled."""

from __future__ import annotations

from tradebot.engine.orders import OrderStatus
from tradebot.engine.types import Side
from tradebot.runtime.asking import AskSchedule
from tradebot.runtime.store import StoredOrder


def _order(coid: str) -> StoredOrder:
    return StoredOrder(coid, 1, 0, Side.BUY, "limit", 100.0, 1.0, OrderStatus.UNKNOWN, 0)


def test_an_order_in_doubt_is_asked_at_once_then_less_and_less_often():
    schedule, order = AskSchedule(first_ms=250, cap_ms=2_000), _order("a")
    asked = [t for t in range(0, 10_000, 50) if schedule.due([order], t)]
    # Asked at every price event (every 50 ms) it would be 200 queries in these 10 s.
    assert asked == [0, 250, 750, 1_750, 3_750, 5_750, 7_750, 9_750]


def test_a_settled_order_is_forgotten_and_a_new_doubt_is_asked_at_once():
    schedule, a, b = AskSchedule(), _order("a"), _order("b")
    assert schedule.due([a], 0) == [a]
    assert schedule.due([a, b], 100) == [b]  # a waits its delay; b is new
    assert schedule.due([], 200) == []  # both settled
    assert schedule.due([a], 300) == [a]  # in doubt again: asked at once
