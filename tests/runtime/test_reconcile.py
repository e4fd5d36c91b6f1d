"""The reconcile rules as a pure diff: not-found is not cancelled, a fill completes through its
trades, and an order never moves backwards (part-filled stays part-filled)."""

from __future__ import annotations

from tradebot.engine.orders import OrderStatus, transition
from tradebot.engine.types import Side
from tradebot.runtime.ports import OrderReport, TradeReport, VenueOrderStatus
from tradebot.runtime.reconcile import NEVER_PLACED, reconcile_order
from tradebot.runtime.store import StoredOrder

GRACE = 30_000


def _order(status: OrderStatus, filled: float = 0.0) -> StoredOrder:
    return StoredOrder("run-1-3-0", 3, 0, Side.BUY, "limit", 100.0, 1.0, status, 0, filled)


def _report(status: VenueOrderStatus, filled: float) -> OrderReport:
    return OrderReport("run-1-3-0", "x-9", status, filled, 5)


def _trade(qty: float) -> TradeReport:
    return TradeReport("t-1", "run-1-3-0", Side.BUY, 100.0, qty, 0.01, "USDT", 5)


def _resolve(order: StoredOrder, report: OrderReport | None, trades=(), missing=0):
    return reconcile_order(
        order, report, list(trades), now=9, missing_for_ms=missing, grace_ms=GRACE
    )


def test_a_part_filled_order_reported_open_without_its_fill_stays_part_filled():
    order = _order(OrderStatus.PARTIALLY_FILLED, filled=0.4)
    resolution = _resolve(order, _report(VenueOrderStatus.OPEN, 0.0))
    assert resolution.update is not None
    assert resolution.update.status is OrderStatus.PARTIALLY_FILLED
    transition(order.status, resolution.update.status)  # a legal move


def test_an_open_order_with_an_executed_quantity_is_part_filled():
    resolution = _resolve(_order(OrderStatus.OPEN), _report(VenueOrderStatus.OPEN, 0.3))
    assert resolution.update is not None
    assert resolution.update.status is OrderStatus.PARTIALLY_FILLED


def test_a_filled_order_completes_through_its_trades_not_its_status():
    trades = [_trade(1.0)]
    resolution = _resolve(
        _order(OrderStatus.SUBMITTING), _report(VenueOrderStatus.FILLED, 1.0), trades
    )
    assert resolution.update is not None
    assert resolution.update.status is OrderStatus.OPEN
    assert resolution.trades == trades


def test_not_found_inside_the_grace_window_changes_nothing_and_a_submit_becomes_unknown():
    assert _resolve(_order(OrderStatus.OPEN), None, missing=GRACE - 1).update is None
    unknown = _resolve(_order(OrderStatus.SUBMITTING), None, missing=GRACE - 1).update
    assert unknown is not None
    assert unknown.status is OrderStatus.UNKNOWN


def test_not_found_after_the_grace_window_without_trades_is_never_placed():
    update = _resolve(_order(OrderStatus.UNKNOWN), None, missing=GRACE).update
    assert update is not None
    assert (update.status, update.reason) == (OrderStatus.REJECTED, NEVER_PLACED)


def test_trades_of_an_order_the_book_forgot_are_recorded():
    trades = [_trade(1.0)]
    resolution = _resolve(_order(OrderStatus.OPEN), None, trades, missing=GRACE * 2)
    assert resolution.update is None
    assert resolution.trades == trades
