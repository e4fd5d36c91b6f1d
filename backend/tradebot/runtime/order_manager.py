"""Orders on their way to and from a venue, persisted before they leave.

Every order is written as SUBMITTING before its request is sent. A transient error on submit
makes it UNKNOWN: it is asked for by client order id until the venue answers, and only a venue
that has confirmed (after a grace window, with no trades) that it never saw the order frees the
line for a new one, under a new sequence number. Nothing is ever resent blindly.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

from tradebot.engine.orders import ACTIVE, OrderStatus, transition
from tradebot.engine.strategy import WantedOrder
from tradebot.engine.types import Side
from tradebot.observability.logs import get_logger
from tradebot.observability.run_events import SILENT, RunObserver
from tradebot.runtime.ids import client_order_id
from tradebot.runtime.ports import (
    ORDER_STATUS,
    OrderRejectedError,
    OrderReport,
    OrderRequest,
    TransientVenueError,
    Venue,
    VenueError,
)
from tradebot.runtime.store import OrderJournal, OrderUpdate, StoredOrder

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class OrderPolicy:
    concurrency: int = 4
    rate_interval_ms: int = 0
    not_found_grace_ms: int = 30_000
    entry_limit: bool = False
    """Buy the grid's base with a limit at the price (a maker) instead of a market order."""
    replace_timeout_ms: int = 60_000
    replace_slippage_pct: float = 0.5
    replace_max_retries: int = 3
    ask_again_ms: int = 250
    """An order in doubt is asked about again after this, doubling to 2 s (0: at every tick,
    where the run's own reads drive the market: a stepped sandbox holds it meanwhile)."""


class Rejection(Exception):
    """The venue refused an order the grid needs: the run cannot keep its book whole."""

    def __init__(self, order: StoredOrder, error: OrderRejectedError) -> None:
        super().__init__(f"order {order.client_order_id} rejected: {error}")
        self.order = order
        self.insufficient_funds = error.insufficient_funds


class OrderManager:
    def __init__(
        self,
        run_id: str,
        venue: Venue,
        store: OrderJournal,
        policy: OrderPolicy,
        clock: Callable[[], int],
        on_error: Callable[[VenueError], None],
        *,
        observer: RunObserver = SILENT,
    ) -> None:
        self.run_id = run_id
        self.observer = observer
        self.venue = venue
        self.store = store
        self.policy = policy
        self.clock = clock
        self._on_error = on_error
        self.active: dict[str, StoredOrder] = {}
        self._seqs: dict[int, int] = {}
        self._semaphore = asyncio.Semaphore(policy.concurrency)
        self._last_submit = 0.0
        self.submitted_at: dict[str, float] = {}
        """Monotonic time each order of this process was sent (execution metrics)."""

    async def load(self) -> None:
        """Pick up the run's active orders and sequence numbers from the store."""
        self.active = {o.client_order_id: o for o in await self.store.orders(ACTIVE)}
        self._seqs = await self.store.next_seqs()

    def _new_order(self, side: Side, line: int, qty: float, price: float | None) -> StoredOrder:
        seq = self._seqs.get(line, 0)
        self._seqs[line] = seq + 1
        return StoredOrder(
            client_order_id=client_order_id(self.run_id, side, line, seq),
            line=line,
            seq=seq,
            side=side,
            kind="market" if price is None else "limit",
            price=price or 0.0,
            qty=qty,
            status=OrderStatus.SUBMITTING,
            created_ts=self.clock(),
        )

    # ---- placing ------------------------------------------------------------------------
    async def place_limits(self, wanted: list[WantedOrder]) -> None:
        await self.send(self.prepare(wanted))

    async def place_market(self, side: Side, qty: float, price: float | None = None) -> StoredOrder:
        """An order off the grid's lines (line -1): at market, or a limit at ``price``."""
        order = self._new_order(side, -1, qty, price)
        await self.send(self._activate([order]))
        return order

    def prepare(self, wanted: list[WantedOrder]) -> list[StoredOrder]:
        """New orders for ``wanted``, active from now on as SUBMITTING: a diff of the book
        sees their lines busy while they are on their way (``send``)."""
        return self._activate([self._new_order(w.side, w.line, w.qty, w.price) for w in wanted])

    def _activate(self, orders: list[StoredOrder]) -> list[StoredOrder]:
        for order in orders:
            self.active[order.client_order_id] = order
        return orders

    async def send(self, orders: list[StoredOrder]) -> None:
        """Write ``orders`` ahead, send them, and keep the venue's answers."""
        if not orders:
            return
        try:
            await self.store.add_orders(orders)  # write-ahead: the ids exist before any request
        except BaseException:
            self.unsent(orders)
            raise
        results = await asyncio.gather(*(self._submit(o) for o in orders), return_exceptions=True)
        updates = [
            self._answered(order, result)
            for order, result in zip(orders, results, strict=True)
            if isinstance(result, OrderUpdate)
        ]
        await self.store.acknowledged(updates)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    def unsent(self, orders: list[StoredOrder]) -> None:
        """``orders``, prepared, will never be sent: no line is busy with them."""
        for order in orders:
            self.active.pop(order.client_order_id, None)

    def _answered(self, order: StoredOrder, update: OrderUpdate) -> OrderUpdate:
        """The venue's answer to ``order``'s request, as it stands now. A run that decides
        while its orders are on their way may have booked a fill of one before its answer
        came (the user stream is faster than the REST round trip): that answer is older than
        the fill and only brings the exchange's id (its status would take the order back)."""
        if order.status is OrderStatus.SUBMITTING:
            self.apply(update)
            return update
        if update.exchange_order_id:
            order.exchange_order_id = update.exchange_order_id
        return OrderUpdate(
            order.client_order_id,
            order.status,
            update.ts,
            exchange_order_id=update.exchange_order_id,
        )

    async def _pace(self) -> None:
        gap = self.policy.rate_interval_ms / 1000.0
        if gap <= 0:
            return
        wait = self._last_submit + gap - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_submit = time.monotonic()

    async def _submit(self, order: StoredOrder) -> OrderUpdate:
        async with self._semaphore:
            await self._pace()
            sent = self.submitted_at[order.client_order_id] = time.monotonic()
            self.observer.order_submitted(order.kind)
            request = OrderRequest(
                order.client_order_id,
                order.side,
                order.qty,
                None if order.kind == "market" else order.price,
            )
            try:
                report = await self.venue.submit(request)
            except TransientVenueError as exc:
                self._on_error(exc)
                return OrderUpdate(
                    order.client_order_id,
                    OrderStatus.UNKNOWN,
                    self.clock(),
                    reason=f"submit: {exc}"[:500],
                )
            except OrderRejectedError as exc:
                self._on_error(exc)
                self.observer.order_rejected()
                log.info(
                    "execution_metrics",
                    stage="reject",
                    client_order_id=order.client_order_id,
                    reason=str(exc)[:200],
                )
                self.apply(
                    OrderUpdate(
                        order.client_order_id,
                        OrderStatus.REJECTED,
                        self.clock(),
                        reason=str(exc)[:500],
                    )
                )
                await self.store.update_orders(
                    [
                        OrderUpdate(
                            order.client_order_id,
                            OrderStatus.REJECTED,
                            self.clock(),
                            reason=str(exc)[:500],
                        )
                    ]
                )
                raise Rejection(order, exc) from None
            self.observer.order_acknowledged(time.monotonic() - sent)
            return self._submitted(report)

    def _submitted(self, report: OrderReport) -> OrderUpdate:
        """The venue's answer to a submit, as the order is stored and held. An order it reports
        filled at once (a market order) stays OPEN until its trade is recorded, which counts
        the fill: stored FILLED before that, a crash would leave it out of the active orders a
        restart asks about, so its trade would never be fetched (and the restart's top-up
        would buy the same base again)."""
        update = self._from_report(report)
        if update.status is OrderStatus.FILLED:
            return dataclasses.replace(update, status=OrderStatus.OPEN, filled_qty=None)
        return update

    def _from_report(self, report: OrderReport) -> OrderUpdate:
        return OrderUpdate(
            report.client_order_id,
            ORDER_STATUS[report.status],
            self.clock(),
            filled_qty=report.filled_qty,
            exchange_order_id=report.exchange_order_id,
        )

    # ---- state --------------------------------------------------------------------------
    def apply(self, update: OrderUpdate) -> None:
        """Move an order through the state table; orders that end leave the active set."""
        order = self.active.get(update.client_order_id)
        if order is None:
            return
        order.status = transition(order.status, update.status)
        if update.exchange_order_id:
            order.exchange_order_id = update.exchange_order_id
        if order.status not in ACTIVE:
            self.active.pop(order.client_order_id, None)

    # ---- cancelling ---------------------------------------------------------------------
    async def cancel(self, orders: list[StoredOrder]) -> None:
        if not orders:
            return
        marks = [
            OrderUpdate(o.client_order_id, OrderStatus.CANCELLING, self.clock()) for o in orders
        ]
        for mark in marks:
            self.apply(mark)
        await self.store.update_orders(marks)
        self.observer.orders_cancelled(len(orders))
        updates = []
        for order in orders:
            try:
                report = await self.venue.cancel(order.client_order_id)
            except TransientVenueError as exc:
                self._on_error(exc)
                continue  # stays CANCELLING; resolved by the next query
            if report is not None:
                update = self._from_report(report)
                if update.status is OrderStatus.FILLED:
                    continue  # the cancel lost a race with a fill: the trade will complete it
                if report.filled_qty > 0:
                    # Cancelled after a part filled: it stays CANCELLING, so the run's next
                    # reconciliation books its trades and what they moved, then cancels it.
                    # Settled here, a trade arriving later would find no order to fill.
                    continue
                self.apply(update)
                updates.append(update)
        await self.store.acknowledged(updates)

    async def cancel_all(self) -> None:
        await self.cancel(
            [
                o
                for o in self.active.values()
                if o.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
            ]
        )

    def by_id(self, client_order_id: str) -> StoredOrder | None:
        return self.active.get(client_order_id)

    def unresolved(self) -> list[StoredOrder]:
        return [
            o
            for o in self.active.values()
            if o.status in (OrderStatus.UNKNOWN, OrderStatus.SUBMITTING, OrderStatus.CANCELLING)
        ]
