"""The order manager on the real paper venue and an in-memory store: every order is stored
SUBMITTING before its request leaves, an order whose request timed out is asked about and
never sent again, cancels and replacements move through the state table, a line is freed only
once the venue has not known its order for the grace window, and no more requests are in
flight at once than the policy allows."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tradebot.engine.orders import ACTIVE, OrderStatus
from tradebot.engine.strategy import WantedOrder
from tradebot.engine.types import Side
from tradebot.engine.walk import Direction
from tradebot.runtime.book import diff_book
from tradebot.runtime.order_manager import OrderManager, OrderPolicy, Rejection
from tradebot.runtime.ports import OrderReport, OrderRequest, Tick, TransientVenueError
from tradebot.runtime.reconcile import NEVER_PLACED, reconcile_order
from tradebot.runtime.store import OrderUpdate, StoredOrder
from tradebot.venues.matching import Balances, MatchingEngine, SimStatus
from tradebot.venues.paper import PaperVenue

RUN = "run-om"
GRACE = 30_000
PRICE = 100.0
POLICY = OrderPolicy(not_found_grace_ms=GRACE)


class MemoryRunStore:
    """The part of ``runtime.store.RunStore`` the order manager uses, in memory. Orders are
    stored as copies, as rows would be: what the manager holds is not what was written."""

    def __init__(self) -> None:
        self.rows: dict[str, StoredOrder] = {}

    async def orders(self, statuses: frozenset[OrderStatus] | None = None) -> list[StoredOrder]:
        return [
            dataclasses.replace(o)
            for o in self.rows.values()
            if statuses is None or o.status in statuses
        ]

    async def next_seqs(self) -> dict[int, int]:
        seqs: dict[int, int] = {}
        for order in self.rows.values():
            seqs[order.line] = max(seqs.get(order.line, 0), order.seq + 1)
        return seqs

    async def add_orders(self, orders: list[StoredOrder]) -> None:
        for order in orders:
            assert order.client_order_id not in self.rows, "a client order id is written once"
            self.rows[order.client_order_id] = dataclasses.replace(order)

    async def update_orders(self, updates: list[OrderUpdate]) -> None:
        for update in updates:
            row = self.rows[update.client_order_id]
            row.status = update.status
            if update.filled_qty is not None:
                row.filled_qty = update.filled_qty
            if update.exchange_order_id is not None:
                row.exchange_order_id = update.exchange_order_id
            if update.reason is not None:
                row.reason = update.reason

    async def acknowledged(self, updates: list[OrderUpdate]) -> None:
        await self.update_orders(updates)

    def status(self, client_order_id: str) -> OrderStatus:
        return self.rows[client_order_id].status


def _engine(base: float = 1.0, quote: float = 10_000.0) -> MatchingEngine:
    return MatchingEngine(
        maker_fee=0.001, taker_fee=0.001, balances=Balances(base_free=base, quote_free=quote)
    )


def _ticks(*moves: tuple[Direction | None, float]) -> list[Tick]:
    return [Tick(ts, price, direction) for ts, (direction, price) in enumerate(moves, start=1)]


class Venue(PaperVenue):
    """The paper venue, noting what the store held as each request arrived, with the faults
    of a network between us: a request lost on the way, an answer lost on the way back (the
    venue took the order), a cancel lost, a slow answer."""

    def __init__(self, engine: MatchingEngine, store: MemoryRunStore, ticks: list[Tick]) -> None:
        super().__init__(engine, iter(ticks))
        self.store = store
        self.stored_when_sent: dict[str, OrderStatus | None] = {}
        self.rows_when_sent: list[int] = []
        self.lost: str | None = None
        """"request" or "answer": every submit times out, before or after the venue has it."""
        self.cancels_lost = False
        self.answer_after_s = 0.0
        self.in_flight = 0
        self.most_in_flight = 0

    async def submit(self, request: OrderRequest) -> OrderReport:
        row = self.store.rows.get(request.client_order_id)
        self.stored_when_sent[request.client_order_id] = None if row is None else row.status
        self.rows_when_sent.append(len(self.store.rows))
        if self.lost == "request":
            raise TransientVenueError("connect timed out")
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.answer_after_s)
            report = await super().submit(request)
        finally:
            self.in_flight -= 1
        if self.lost == "answer":
            raise TransientVenueError("read timed out")
        return report

    async def cancel(self, client_order_id: str) -> OrderReport | None:
        if self.cancels_lost:
            raise TransientVenueError("cancel timed out")
        return await super().cancel(client_order_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000

    def __call__(self) -> int:
        return self.now


async def _manager(
    *,
    lost: str | None = None,
    engine: MatchingEngine | None = None,
    store: MemoryRunStore | None = None,
    ticks: list[Tick] | None = None,
    policy: OrderPolicy = POLICY,
    venue_class: type[Venue] = Venue,
) -> tuple[OrderManager, Venue, MemoryRunStore, list[Exception]]:
    store = store or MemoryRunStore()
    venue = venue_class(engine or _engine(), store, ticks or _ticks((None, PRICE)))
    venue.lost = lost
    await venue.next_tick()  # the market has a price
    errors: list[Exception] = []
    manager = OrderManager(RUN, venue, store, policy, Clock(), errors.append)
    await manager.load()
    return manager, venue, store, errors


def _buy(line: int, price: float = 99.0, qty: float = 0.1) -> WantedOrder:
    return WantedOrder(line, Side.BUY, price, qty)


def _sell(line: int, price: float = 101.0, qty: float = 0.1) -> WantedOrder:
    return WantedOrder(line, Side.SELL, price, qty)


# ---- placing ---------------------------------------------------------------------------
async def test_every_order_is_stored_submitting_before_its_request_leaves_then_open():
    manager, venue, store, _ = await _manager()

    await manager.place_limits([_buy(3), _sell(5)])

    assert set(venue.stored_when_sent.values()) == {OrderStatus.SUBMITTING}
    assert len(venue.stored_when_sent) == 2
    for coid in venue.stored_when_sent:
        assert store.status(coid) is OrderStatus.OPEN
        assert store.rows[coid].exchange_order_id  # the venue's id is kept for the queries
        assert manager.active[coid].status is OrderStatus.OPEN


async def test_a_market_order_fills_through_its_trade_so_it_stays_open_until_then():
    manager, venue, _, _ = await _manager()

    order = await manager.place_market(Side.BUY, 0.2)

    assert (order.line, order.kind) == (-1, "market")
    assert venue.stored_when_sent[order.client_order_id] is OrderStatus.SUBMITTING
    assert venue.engine.find(order.client_order_id).status is SimStatus.FILLED
    # The venue says filled; the manager waits for the trade to complete it (and count it).
    assert manager.active[order.client_order_id].status is OrderStatus.OPEN


async def test_a_market_order_filled_at_once_is_stored_open_so_a_restart_asks_for_its_trade():
    manager, venue, store, _ = await _manager()

    order = await manager.place_market(Side.BUY, 0.2)

    coid = order.client_order_id
    assert venue.engine.find(coid).status is SimStatus.FILLED
    # Stored as held: its trade (not yet recorded) completes it and counts the fill.
    assert store.status(coid) is OrderStatus.OPEN
    assert store.rows[coid].filled_qty == 0.0
    # The process dies here: the restart's active orders, which it reconciles, hold it.
    restarted = OrderManager(RUN, venue, store, POLICY, Clock(), lambda _: None)
    await restarted.load()
    assert coid in restarted.active


async def test_a_rejected_order_is_stored_rejected_leaves_the_book_and_stops_the_caller():
    manager, _, store, errors = await _manager(engine=_engine(base=0.0))

    with pytest.raises(Rejection) as raised:
        await manager.place_limits([_sell(5)])

    coid = raised.value.order.client_order_id
    assert raised.value.insufficient_funds
    assert store.status(coid) is OrderStatus.REJECTED
    assert store.rows[coid].reason
    assert coid not in manager.active
    assert len(errors) == 1  # counted against the run's error budget


# ---- never a blind resend --------------------------------------------------------------
async def test_an_order_whose_answer_is_lost_becomes_unknown_and_is_never_sent_again():
    manager, venue, store, errors = await _manager(lost="answer")

    await manager.place_limits([_buy(3)])

    [coid] = venue.stored_when_sent
    assert store.status(coid) is OrderStatus.UNKNOWN
    assert store.rows[coid].reason == "submit: read timed out"
    assert manager.unresolved() == [manager.active[coid]]
    assert len(errors) == 1
    # The grid still wants the line: the book diff waits for the order's fate instead.
    assert not diff_book([_buy(3)], manager.active.values())
    assert len(venue.engine.orders) == 1


async def test_an_unknown_order_the_venue_answers_for_is_taken_as_it_is_there():
    manager, venue, store, _ = await _manager(lost="answer")
    await manager.place_limits([_buy(3)])
    order = manager.unresolved()[0]

    report = await venue.query(order.client_order_id)  # asked by client order id
    resolution = reconcile_order(order, report, [], now=2_000, missing_for_ms=0, grace_ms=GRACE)
    assert resolution.update is not None
    manager.apply(resolution.update)
    await store.update_orders([resolution.update])

    assert manager.active[order.client_order_id].status is OrderStatus.OPEN
    assert store.status(order.client_order_id) is OrderStatus.OPEN
    assert manager.unresolved() == []


async def test_a_line_is_freed_only_after_the_grace_window_and_then_under_a_new_id():
    manager, venue, store, _ = await _manager(lost="request")
    await manager.place_limits([_buy(3)])
    [lost] = manager.unresolved()

    inside = reconcile_order(lost, None, [], now=2, missing_for_ms=GRACE - 1, grace_ms=GRACE)
    assert inside.update is None  # not found yet is not "never placed"
    assert not diff_book([_buy(3)], manager.active.values())

    after = reconcile_order(lost, None, [], now=3, missing_for_ms=GRACE, grace_ms=GRACE)
    assert after.update is not None
    assert after.update.reason == NEVER_PLACED
    manager.apply(after.update)
    await store.update_orders([after.update])
    assert lost.client_order_id not in manager.active

    venue.lost = None  # the venue answers again
    await manager.place_limits(diff_book([_buy(3)], manager.active.values()).place)
    [again] = manager.active.values()
    assert (again.line, again.seq) == (3, lost.seq + 1)
    assert again.client_order_id != lost.client_order_id
    assert store.status(lost.client_order_id) is OrderStatus.REJECTED


async def test_a_restarted_manager_picks_up_its_in_flight_orders_and_never_reuses_an_id():
    first, venue, store, _ = await _manager(lost="answer")
    await first.place_limits([_buy(3), _buy(4)])

    restarted = OrderManager(RUN, venue, store, OrderPolicy(), Clock(), lambda _: None)
    await restarted.load()

    assert {o.client_order_id for o in restarted.unresolved()} == set(store.rows)
    venue.lost = None
    await restarted.place_limits([_buy(3)])
    assert len(store.rows) == 3  # a third id: the two unknown ones were not reused
    assert max(o.seq for o in store.rows.values() if o.line == 3) == 1


# ---- cancel and replace ----------------------------------------------------------------
async def test_a_cancel_marks_cancelling_first_then_cancelled_and_the_line_takes_a_new_order():
    manager, venue, store, _ = await _manager()
    await manager.place_limits([_buy(3, price=99.0)])
    [old] = manager.active.values()

    diff = diff_book([_buy(3, price=98.0)], manager.active.values())
    assert (diff.cancel, diff.place) == ([old], [])  # the old one must be gone first
    await manager.cancel(diff.cancel)

    assert store.status(old.client_order_id) is OrderStatus.CANCELLED
    assert venue.engine.find(old.client_order_id).status is SimStatus.CANCELED
    assert manager.active == {}
    await manager.place_limits(diff_book([_buy(3, price=98.0)], manager.active.values()).place)
    [new] = manager.active.values()
    assert (new.price, new.seq) == (98.0, 1)


async def test_a_cancel_that_times_out_leaves_the_order_cancelling_to_be_asked_about():
    manager, venue, store, errors = await _manager()
    await manager.place_limits([_buy(3)])
    [order] = manager.active.values()
    venue.cancels_lost = True

    await manager.cancel([order])

    assert store.status(order.client_order_id) is OrderStatus.CANCELLING
    assert manager.unresolved() == [order]
    assert len(errors) == 1


async def test_a_cancel_that_loses_the_race_with_a_fill_leaves_the_order_to_its_trade():
    ticks = _ticks((None, PRICE), (Direction.FALLING, 98.0))
    manager, venue, store, _ = await _manager(ticks=ticks)
    await manager.place_limits([_buy(3, price=99.0)])
    [order] = manager.active.values()
    await venue.next_tick()  # the price falls through the buy: the venue fills it

    await manager.cancel([order])

    assert venue.engine.find(order.client_order_id).status is SimStatus.FILLED
    assert store.status(order.client_order_id) is OrderStatus.CANCELLING
    assert order.client_order_id in manager.active  # its trade completes it, not the cancel


class PartFilledCancels(Venue):
    """A venue whose cancels land after part of the order filled (its trade not yet seen)."""

    async def cancel(self, client_order_id: str) -> OrderReport | None:
        report = await super().cancel(client_order_id)
        assert report is not None
        return dataclasses.replace(report, filled_qty=report.filled_qty + 0.001)


async def test_a_cancel_after_a_part_filled_leaves_the_order_for_reconciliation():
    # Naive: take the cancel's CANCELLED at its word: the order leaves the book, and the trade
    # of its filled part, arriving after, finds no order: a lost fill.
    manager, _, store, _ = await _manager(venue_class=PartFilledCancels)
    await manager.place_limits([_buy(3, price=99.0)])
    [order] = manager.active.values()

    await manager.cancel([order])

    assert store.status(order.client_order_id) is OrderStatus.CANCELLING
    assert manager.unresolved() == [order]


async def test_cancel_all_cancels_resting_orders_and_leaves_in_flight_ones_alone():
    manager, venue, store, _ = await _manager()
    await manager.place_limits([_buy(3), _sell(5)])
    venue.lost = "answer"
    await manager.place_limits([_buy(2, price=98.0)])
    [unknown] = manager.unresolved()

    await manager.cancel_all()

    assert sorted(o.status for o in store.rows.values()) == sorted(
        [OrderStatus.CANCELLED, OrderStatus.CANCELLED, OrderStatus.UNKNOWN]
    )
    assert list(manager.active.values()) == [unknown]


# ---- concurrency -----------------------------------------------------------------------
async def test_no_more_requests_are_in_flight_than_the_policy_allows_and_all_are_written_first():
    policy = OrderPolicy(concurrency=2, not_found_grace_ms=GRACE)
    manager, venue, store, _ = await _manager(policy=policy)
    venue.answer_after_s = 0.01
    wanted = [_buy(line, price=90.0 + line) for line in range(6)]

    await manager.place_limits(wanted)

    assert venue.most_in_flight == 2
    assert venue.rows_when_sent == [6] * 6  # the whole batch was written before any request
    assert set(venue.stored_when_sent.values()) == {OrderStatus.SUBMITTING}
    assert {o.status for o in await store.orders(ACTIVE)} == {OrderStatus.OPEN}
