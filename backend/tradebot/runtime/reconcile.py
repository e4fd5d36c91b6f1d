"""Reconciliation as a pure diff: what the venue says about one of our orders, against what we
stored, becomes an order update and the trades to record.

Rules from the order-safety issue: a venue that does not know an order has not cancelled it
(exchanges answer "not found" for a fresh order for seconds); only after a grace window, with
no trades for it, is the order taken as never placed, which frees its line for a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tradebot.engine.orders import OrderStatus
from tradebot.runtime.ports import ORDER_STATUS, OrderReport, TradeReport
from tradebot.runtime.store import OrderUpdate, StoredOrder

NEVER_PLACED = "not known to the venue after the grace window, and no trades: never placed"


@dataclass(slots=True)
class Resolution:
    update: OrderUpdate | None = None
    trades: list[TradeReport] = field(default_factory=list)


def reconcile_order(
    order: StoredOrder,
    report: OrderReport | None,
    trades: list[TradeReport],
    *,
    now: int,
    missing_for_ms: int,
    grace_ms: int,
) -> Resolution:
    """Decide one order's state from the venue's answer.

    ``trades`` are the venue's trades for the order (fills while we were away are among them).
    ``missing_for_ms`` is how long the venue has not known the order (0 when it knows it);
    ``now`` stamps the update.
    """
    if report is None:
        if trades:  # the order book forgot it, the trade history did not
            return Resolution(trades=trades)
        if missing_for_ms < grace_ms:
            if order.status is not OrderStatus.SUBMITTING:
                return Resolution()
            return Resolution(OrderUpdate(order.client_order_id, OrderStatus.UNKNOWN, now))
        return Resolution(
            OrderUpdate(order.client_order_id, OrderStatus.REJECTED, now, reason=NEVER_PLACED)
        )
    status: OrderStatus = ORDER_STATUS[report.status]
    if status is OrderStatus.OPEN and (
        report.filled_qty > 0 or order.status is OrderStatus.PARTIALLY_FILLED
    ):
        # A part-filled order stays part-filled: an answer that lags our own trades (an
        # executed quantity not yet counted) must not move it backwards.
        status = OrderStatus.PARTIALLY_FILLED
    if status is OrderStatus.FILLED:
        # Filled orders complete through their trades, never by a status alone.
        return Resolution(
            OrderUpdate(
                order.client_order_id,
                _resting(order),
                now,
                exchange_order_id=report.exchange_order_id,
            ),
            trades,
        )
    return Resolution(
        OrderUpdate(order.client_order_id, status, now, exchange_order_id=report.exchange_order_id),
        trades,
    )


def _resting(order: StoredOrder) -> OrderStatus:
    if order.status in (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN):
        return OrderStatus.OPEN
    return order.status
