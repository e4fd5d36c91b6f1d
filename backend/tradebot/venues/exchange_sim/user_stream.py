"""The user-data stream's events: an ``executionReport`` for each change of an order (NEW,
each TRADE, CANCELED) and an ``outboundAccountPosition`` after the balances moved, sent only to
the subscriptions of the account they belong to."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from tradebot.venues.exchange_sim.stream_wire import account_position, execution_report
from tradebot.venues.exchange_sim.wire import order_status
from tradebot.venues.matching import SimOrder, SimTrade

if TYPE_CHECKING:
    from tradebot.venues.exchange_sim.account import SimAccount
    from tradebot.venues.exchange_sim.simulator import ExchangeSimulator


def report(
    sim: ExchangeSimulator,
    account: SimAccount,
    order: SimOrder,
    execution: str | None,
    trades: Iterable[SimTrade] = (),
) -> None:
    """Report ``execution`` (NEW, CANCELED...; None for trades only), then each of the order's
    new ``trades``, then the account's balances. Each event shows the order as it was right
    after that event (a market order's NEW still says NEW, its TRADE says FILLED)."""
    hub = sim.streams
    if not hub.listening_user(account.api_key):
        return
    market = sim.config.market
    meta, now, fills = account.meta[order.order_id], sim.market.now_ms, list(trades)
    filled = order.filled_qty - sum(t.qty for t in fills)

    def send(kind: str, status: str, trade: SimTrade | None) -> None:
        event = execution_report(
            market.market_id,
            order,
            meta,
            kind,
            status,
            filled,
            hub.next_execution_id(),
            now,
            account.fee_assets,
            trade,
        )
        hub.publish_user(account.api_key, event)

    if execution == "NEW":
        send("NEW", "NEW", None)
    for trade in fills:
        filled += trade.qty
        done = filled >= order.qty * (1 - 1e-9)
        send("TRADE", "FILLED" if done else "PARTIALLY_FILLED", trade)
    if execution is not None and execution != "NEW":
        send(execution, order_status(order), None)
    hub.publish_user(account.api_key, account_position(now, account.balances_json()[:2]))
