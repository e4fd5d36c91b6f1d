"""The book diff: a line keeps a matching resting order, gets a new one only once nothing else
can fill there, and the entry leg is never the grid's to touch; new orders are sent only as far
as the balances pay for them, nearest the price first."""

from __future__ import annotations

from tradebot.engine.orders import OrderStatus
from tradebot.engine.strategy import WantedOrder
from tradebot.engine.types import Side
from tradebot.runtime.book import Funds, affordable, diff_book, whole_lots
from tradebot.runtime.store import StoredOrder

FEE = 0.001


def _want(line: int, side: Side = Side.BUY, price: float = 99.0, qty: float = 0.1) -> WantedOrder:
    return WantedOrder(line, side, price, qty)


def _order(
    line: int,
    status: OrderStatus = OrderStatus.OPEN,
    *,
    side: Side = Side.BUY,
    price: float = 99.0,
    qty: float = 0.1,
    kind: str = "limit",
    seq: int = 0,
    filled: float = 0.0,
) -> StoredOrder:
    coid = f"tb-{line}-{seq}"
    return StoredOrder(coid, line, seq, side, kind, price, qty, status, 0, filled)


def test_a_resting_order_that_matches_the_grid_is_kept_and_nothing_is_sent():
    diff = diff_book([_want(3)], [_order(3)])
    assert not diff
    assert (diff.place, diff.cancel) == ([], [])


def test_a_part_filled_order_that_matches_keeps_its_line():
    assert not diff_book([_want(3)], [_order(3, OrderStatus.PARTIALLY_FILLED, filled=0.04)])


def test_an_empty_line_the_grid_wants_gets_its_order():
    wanted = [_want(3), _want(7, Side.SELL, 101.0)]
    diff = diff_book(wanted, [])
    assert (diff.place, diff.cancel) == (wanted, [])


def test_a_float_hair_off_the_wanted_price_still_matches():
    assert not diff_book([_want(3, price=99.0)], [_order(3, price=99.0 * (1 + 1e-12))])


def test_an_order_at_another_price_is_cancelled_and_the_line_waits_for_the_cancel():
    stale = _order(3, price=98.0)
    diff = diff_book([_want(3, price=99.0)], [stale])
    assert (diff.place, diff.cancel) == ([], [stale])


def test_an_order_on_the_wrong_side_is_cancelled():
    wrong = _order(3, side=Side.SELL)
    assert diff_book([_want(3, Side.BUY)], [wrong]).cancel == [wrong]


def test_a_line_with_an_order_in_flight_gets_nothing_new_and_loses_nothing():
    for status in (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN, OrderStatus.CANCELLING):
        assert not diff_book([_want(3)], [_order(3, status)]), status


def test_a_matching_order_is_kept_and_an_extra_one_on_its_line_cancelled():
    keep, extra = _order(3, seq=0), _order(3, seq=1)
    diff = diff_book([_want(3)], [keep, extra])
    assert (diff.place, diff.cancel) == ([], [extra])


def test_lines_the_grid_wants_empty_lose_their_resting_orders_but_not_those_in_flight():
    resting, in_flight = _order(4), _order(5, OrderStatus.UNKNOWN)
    diff = diff_book([], [resting, in_flight])
    assert (diff.place, diff.cancel) == ([], [resting])


def test_the_entry_leg_and_market_orders_are_never_the_grids_to_touch():
    entry = _order(-1, kind="limit")
    market = _order(2, kind="market")
    diff = diff_book([_want(2)], [entry, market])
    assert diff.cancel == []
    assert diff.place == [_want(2)]


def test_orders_are_sent_as_far_as_the_balances_pay_nearest_the_price_first():
    cost = 99.0 * 0.1 * (1 + FEE)
    buys = [_want(1, price=99.0), _want(3, price=99.0), _want(2, price=99.0)]
    sells = [_want(6, Side.SELL, 101.0), _want(5, Side.SELL, 101.0)]
    chosen = affordable(buys + sells, [], Funds(base=0.1, quote=2 * cost), FEE)
    # Buys nearest the price are the highest lines, sells the lowest.
    assert [w.line for w in chosen if w.side is Side.BUY] == [3, 2]
    assert [w.line for w in chosen if w.side is Side.SELL] == [5]


def test_working_orders_keep_what_they_set_aside():
    working = [_order(4, side=Side.SELL, price=101.0, qty=0.1)]
    chosen = affordable([_want(5, Side.SELL, 101.0, qty=0.07)], working, Funds(0.15, 0.0), FEE)
    assert chosen == []  # 0.1 of the base is promised to the resting sell
    assert affordable([_want(5, Side.SELL, 101.0, qty=0.05)], working, Funds(0.15, 0.0), FEE)


def test_a_part_filled_order_holds_its_whole_quantity_until_the_books_take_its_trades():
    # The books take an order's trades when it completes: a buy 60 % filled has spent that
    # quote on the exchange already, and still locks the rest. Counting only the rest paid
    # a new buy from spent quote (the fault soak's run tripped when the exchange refused it).
    cost = 99.0 * 0.1 * (1 + FEE)
    part_filled = [_order(4, price=99.0, qty=0.1, filled=0.06)]
    new_buy = [_want(3, price=99.0, qty=0.1)]
    assert affordable(new_buy, part_filled, Funds(0.0, 1.5 * cost), FEE) == []
    assert affordable(new_buy, part_filled, Funds(0.0, 2 * cost), FEE) == new_buy
    sold_part = [_order(6, side=Side.SELL, price=101.0, qty=0.1, filled=0.06)]
    new_sell = [_want(7, Side.SELL, 101.0, qty=0.1)]
    assert affordable(new_sell, sold_part, Funds(0.15, 0.0), FEE) == []


def test_a_quantity_a_float_hair_under_a_lot_step_is_one_whole_step():
    assert whole_lots(0.0018999999999999998, 0.0001) == 0.0019
    assert whole_lots(0.00191, 0.0001) == 0.002
    assert whole_lots(0.123456, 0.0) == 0.123456
