"""Resting orders that fill in parts, as on an exchange: a segment of the walk trades only so
much volume through a price, and a resting order takes at most that (``SimConfig.fill_share``
of the segment's volume, shared by the account's orders the segment crosses, best price first).

This is the simulator's own matching path. ``MatchingEngine.move`` (the paper venue's and the
backtest's) still fills whole orders; ``PartialFillEngine`` only adds ``move_bounded`` beside it,
so an account whose simulator has no ``fill_share`` matches exactly as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tradebot.engine.types import FeeAsset, Side
from tradebot.engine.walk import Direction
from tradebot.venues.matching import MatchingEngine, SimOrder, SimStatus, SimTrade


@dataclass(slots=True)
class PartialFillEngine(MatchingEngine):
    def move_bounded(
        self, direction: Direction, price: float, ts: int, volume: float, step: float
    ) -> list[SimTrade]:
        """Match one segment ending at ``price`` whose crossed orders may take ``volume`` in all
        (in multiples of the lot ``step``); an order left part-filled stays on the book, first in
        line for the next segment that crosses it. Returns the trades, in order."""
        start = len(self.trades)
        falling = direction is Direction.FALLING
        book = self._buys if falling else self._sells
        budget = volume
        while book:
            level, order_id = book[0]
            if (falling and -level < price) or (not falling and level > price):
                break
            order = self.orders[order_id]
            remaining = order.qty - order.filled_qty
            qty = remaining if remaining <= budget + 1e-12 else _lots(budget, step)
            if qty <= 0:
                break
            self._fill_part(order, qty, ts)
            budget -= qty
            if order.status is SimStatus.FILLED:
                book.pop(0)
        self.last_price = price
        return self.trades[start:]

    def _fill_part(self, order: SimOrder, qty: float, ts: int) -> None:
        """Fill ``qty`` of a resting order at its price as a maker; the last part releases
        whatever the order still reserves."""
        last = order.filled_qty + qty >= order.qty - 1e-12
        if last:
            qty = order.qty - order.filled_qty
        notional = order.price * qty
        fee, fee_asset = self._charge(order.side, qty, notional, self.maker_fee)
        in_quote = fee if fee_asset is FeeAsset.QUOTE else 0.0
        b = self.balances
        if order.side is Side.BUY:
            release = (
                order.reserved if last else self._buy_reserve(order.price, qty, self.maker_fee)
            )
            b.quote_locked -= release
            b.quote_free += release - notional - in_quote
            b.base_free += qty - (fee if fee_asset is FeeAsset.BASE else 0.0)
        else:
            release = order.reserved if last else qty
            b.base_locked -= release
            b.base_free += release - qty
            b.quote_free += notional - in_quote
        order.reserved -= release
        order.filled_qty = order.qty if last else order.filled_qty + qty
        order.updated_ts = ts
        if last:
            order.status = SimStatus.FILLED
        self.trades.append(
            SimTrade(
                next(self._trade_ids),
                order.order_id,
                order.client_order_id,
                order.side,
                order.price,
                qty,
                fee,
                ts,
                True,
                fee_asset,
            )
        )


def _lots(amount: float, step: float) -> float:
    """``amount`` rounded down to whole lots (a float step: tolerate its binary error)."""
    if step <= 0:
        return amount
    return math.floor(amount / step + 1e-9) * step
