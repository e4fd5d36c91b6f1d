"""The simulated exchange's matching engine, shared by the paper venue and the exchange simulator.

It follows ``grid-semantics.md`` for any resting limit orders, not just a grid's: on a falling
segment every resting buy priced at or above the segment's end fills at its own price, highest
first; on a rising segment every resting sell at or below the end fills, lowest first. Orders
placed after a segment is matched can only fill on a later one. Balances are enforced as an
exchange does: an order the free balance cannot cover is rejected.

Fees follow ``fee_charge``: the paper venue charges every fee in quote, as the spec does; the
exchange simulator charges as Binance spot does, in the asset the trade delivers (a buy's fee
out of the base received, a sell's out of the quote received), or in BNB when the account pays
fees with BNB and holds enough of it.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from enum import StrEnum

from tradebot.engine.types import FeeAsset, Side
from tradebot.engine.walk import Direction


class SimStatus(StrEnum):
    NEW = "NEW"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"


class RejectReason(StrEnum):
    INSUFFICIENT_FUNDS = "insufficient_funds"
    DUPLICATE_CLIENT_ID = "duplicate_client_order_id"
    NO_PRICE = "no_market_price"
    BAD_ORDER = "invalid_order"


class FeeCharge(StrEnum):
    """Where the engine takes commissions from."""

    QUOTE = "quote"
    """Every fee in quote: the spec's convention (paper venue)."""
    ASSET_RECEIVED = "asset_received"
    """Binance spot's: the asset the trade delivers (base for a buy, quote for a sell)."""


BNB_FEE_DISCOUNT = 0.25
"""Binance's spot discount on commissions paid in BNB."""


@dataclass(slots=True)
class BnbWallet:
    """An account that pays fees with BNB (Binance's ``spotBNBBurn``): its BNB and the price of
    one BNB in the pair's quote. A fee the BNB cannot cover is charged as if BNB were off."""

    free: float
    price: float

    def charge(self, fee_in_quote: float) -> float | None:
        """Take ``fee_in_quote`` (less the BNB discount) in BNB; None when it does not cover."""
        if self.price <= 0:
            return None
        amount = round(fee_in_quote * (1 - BNB_FEE_DISCOUNT) / self.price, 8)
        if amount > self.free:
            return None
        self.free -= amount
        return amount


class OrderRejected(Exception):
    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(slots=True)
class SimOrder:
    order_id: int
    client_order_id: str
    side: Side
    price: float
    qty: float
    created_ts: int
    is_market: bool = False
    status: SimStatus = SimStatus.NEW
    filled_qty: float = 0.0
    updated_ts: int = 0
    reserved: float = 0.0
    """Balance locked for the order: quote for a buy (notional plus fee), base for a sell."""


@dataclass(frozen=True, slots=True)
class SimTrade:
    trade_id: int
    order_id: int
    client_order_id: str
    side: Side
    price: float
    qty: float
    fee: float
    """In ``fee_asset``'s units."""
    ts: int
    maker: bool
    fee_asset: FeeAsset = FeeAsset.QUOTE


@dataclass(slots=True)
class Balances:
    base_free: float = 0.0
    base_locked: float = 0.0
    quote_free: float = 0.0
    quote_locked: float = 0.0


@dataclass(slots=True)
class MatchingEngine:
    """One account on one pair. Not thread-safe; the owner serialises calls."""

    maker_fee: float
    taker_fee: float
    balances: Balances = field(default_factory=Balances)
    fee_charge: FeeCharge = FeeCharge.QUOTE
    bnb: BnbWallet | None = None
    last_price: float | None = None
    orders: dict[int, SimOrder] = field(default_factory=dict)
    by_client_id: dict[str, int] = field(default_factory=dict)
    trades: list[SimTrade] = field(default_factory=list)
    _buys: list[tuple[float, int]] = field(default_factory=list)  # (-price, order id)
    _sells: list[tuple[float, int]] = field(default_factory=list)  # (price, order id)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _trade_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # ---- orders -------------------------------------------------------------------------
    def find(self, client_order_id: str) -> SimOrder | None:
        order_id = self.by_client_id.get(client_order_id)
        return None if order_id is None else self.orders[order_id]

    def open_orders(self) -> list[SimOrder]:
        return [o for o in self.orders.values() if o.status is SimStatus.NEW]

    def place_limit(
        self, client_order_id: str, side: Side, price: float, qty: float, ts: int
    ) -> SimOrder:
        """Rest a limit order (it never fills on placement: the grid's prices are makers)."""
        self._check_new(client_order_id, price, qty)
        reserve = self._buy_reserve(price, qty, self.maker_fee) if side is Side.BUY else qty
        self._reserve(side, reserve, client_order_id)
        order = SimOrder(
            next(self._ids), client_order_id, side, price, qty, ts, updated_ts=ts, reserved=reserve
        )
        self._index(order)
        if side is Side.BUY:
            bisect.insort(self._buys, (-price, order.order_id))
        else:
            bisect.insort(self._sells, (price, order.order_id))
        return order

    def place_market(self, client_order_id: str, side: Side, qty: float, ts: int) -> SimOrder:
        """Fill at the last price with the taker fee, or reject."""
        if self.last_price is None:
            raise OrderRejected(RejectReason.NO_PRICE, "no market price yet")
        price = self.last_price
        self._check_new(client_order_id, price, qty)
        reserve = self._buy_reserve(price, qty, self.taker_fee) if side is Side.BUY else qty
        self._reserve(side, reserve, client_order_id)
        order = SimOrder(
            next(self._ids),
            client_order_id,
            side,
            price,
            qty,
            ts,
            is_market=True,
            updated_ts=ts,
            reserved=reserve,
        )
        self._index(order)
        self._fill(order, ts, maker=False)
        return order

    def cancel(self, client_order_id: str, ts: int) -> SimOrder | None:
        """Cancel an open order; returns it (whatever its status), or None if unknown."""
        order = self.find(client_order_id)
        if order is None or order.status is not SimStatus.NEW:
            return order
        book, key = (
            (self._buys, (-order.price, order.order_id))
            if order.side is Side.BUY
            else (self._sells, (order.price, order.order_id))
        )
        del book[bisect.bisect_left(book, key)]
        self._release(order)
        order.status = SimStatus.CANCELED
        order.updated_ts = ts
        return order

    # ---- market -------------------------------------------------------------------------
    def move(self, direction: Direction, price: float, ts: int) -> list[SimTrade]:
        """Match one segment of the walk ending at ``price``; returns the trades, in order."""
        start = len(self.trades)
        if direction is Direction.FALLING:
            while self._buys and -self._buys[0][0] >= price:
                _, order_id = self._buys.pop(0)
                self._fill(self.orders[order_id], ts, maker=True)
        else:
            while self._sells and self._sells[0][0] <= price:
                _, order_id = self._sells.pop(0)
                self._fill(self.orders[order_id], ts, maker=True)
        self.last_price = price
        return self.trades[start:]

    def jump(self, price: float) -> None:
        """The price moves without a walk (between candles): nothing fills on a jump."""
        self.last_price = price

    # ---- internals ----------------------------------------------------------------------
    def _check_new(self, client_order_id: str, price: float, qty: float) -> None:
        if not (price > 0 and qty > 0):
            raise OrderRejected(
                RejectReason.BAD_ORDER, f"price and qty must be > 0 ({price}, {qty})"
            )
        existing = self.find(client_order_id)
        # Like Binance: a client order id is refused only while an order with it is open.
        if existing is not None and existing.status is SimStatus.NEW:
            raise OrderRejected(
                RejectReason.DUPLICATE_CLIENT_ID, f"duplicate client order id {client_order_id}"
            )

    def _buy_reserve(self, price: float, qty: float, fee_rate: float) -> float:
        """The quote a buy locks: its fee too when the fee is paid in quote; otherwise the
        fee comes out of what the buy delivers (or out of BNB) and only the notional is locked."""
        if self.fee_charge is FeeCharge.QUOTE:
            return price * qty * (1 + fee_rate)
        return price * qty

    def _reserve(self, side: Side, amount: float, client_order_id: str) -> None:
        b = self.balances
        free = b.quote_free if side is Side.BUY else b.base_free
        if amount > free * (1 + 1e-12) + 1e-12:
            asset = "quote" if side is Side.BUY else "base"
            raise OrderRejected(
                RejectReason.INSUFFICIENT_FUNDS,
                f"{client_order_id}: needs {amount:.10g} {asset}, {free:.10g} free",
            )
        if side is Side.BUY:
            b.quote_free -= amount
            b.quote_locked += amount
        else:
            b.base_free -= amount
            b.base_locked += amount

    def _release(self, order: SimOrder) -> None:
        b = self.balances
        if order.side is Side.BUY:
            b.quote_locked -= order.reserved
            b.quote_free += order.reserved
        else:
            b.base_locked -= order.reserved
            b.base_free += order.reserved
        order.reserved = 0.0

    def _index(self, order: SimOrder) -> None:
        self.orders[order.order_id] = order
        self.by_client_id[order.client_order_id] = order.order_id

    def _fill(self, order: SimOrder, ts: int, *, maker: bool) -> None:
        notional = order.price * order.qty
        fee, fee_asset = self._charge(
            order.side, order.qty, notional, self.maker_fee if maker else self.taker_fee
        )
        self._release(order)
        b = self.balances
        if order.side is Side.BUY:
            b.quote_free -= notional + (fee if fee_asset is FeeAsset.QUOTE else 0.0)
            b.base_free += order.qty - (fee if fee_asset is FeeAsset.BASE else 0.0)
        else:
            b.base_free -= order.qty
            b.quote_free += notional - (fee if fee_asset is FeeAsset.QUOTE else 0.0)
        order.status = SimStatus.FILLED
        order.filled_qty = order.qty
        order.updated_ts = ts
        self.trades.append(
            SimTrade(
                next(self._trade_ids),
                order.order_id,
                order.client_order_id,
                order.side,
                order.price,
                order.qty,
                fee,
                ts,
                maker,
                fee_asset,
            )
        )

    def _charge(
        self, side: Side, qty: float, notional: float, rate: float
    ) -> tuple[float, FeeAsset]:
        """A trade's commission and the asset it is paid in: BNB when the account pays with
        it and holds enough, else the spec's quote or (Binance) the asset the trade delivers,
        at the same rate: a buy's fee is then ``rate * qty`` in base."""
        if self.fee_charge is FeeCharge.QUOTE:
            return notional * rate, FeeAsset.QUOTE
        # Binance charges the commission it reports, to its 8 decimals: the balances move by
        # exactly what a client reads in the trade.
        if self.bnb is not None:
            in_bnb = self.bnb.charge(notional * rate)
            if in_bnb is not None:
                return in_bnb, FeeAsset.OTHER
        if side is Side.BUY:
            return round(qty * rate, 8), FeeAsset.BASE
        return round(notional * rate, 8), FeeAsset.QUOTE
