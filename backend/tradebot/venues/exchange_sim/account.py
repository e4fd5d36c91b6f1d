"""One API key's account: its matching engine, balances, permissions and order bookkeeping.

The matching engine is the source of truth for orders, fills and the pair's two balances; this
class adds what Binance reports besides (order type, the price sent, acceptance time), the
visibility lag of new orders, and the counters the tests read (client order ids reused).
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tradebot.engine.types import FeeAsset, Side
from tradebot.venues.exchange_sim.config import DEFAULT_PERMISSIONS, AccountConfig, MarketConfig
from tradebot.venues.exchange_sim.errors import (
    BinanceError,
    duplicate_order,
    insufficient_balance,
    order_not_found,
    too_many_orders,
    unknown_order_cancel,
)
from tradebot.venues.exchange_sim.partial_fills import PartialFillEngine
from tradebot.venues.exchange_sim.wire import OrderMeta, fmt
from tradebot.venues.matching import (
    Balances,
    BnbWallet,
    FeeCharge,
    OrderRejected,
    RejectReason,
    SimOrder,
    SimStatus,
    SimTrade,
)

BNB = "BNB"


@dataclass(frozen=True, slots=True)
class NewOrder:
    """A validated order request."""

    client_order_id: str
    side: Side
    type: str
    qty: float
    price: float | None
    time_in_force: str
    orig_quote_qty: float = 0.0


@dataclass(slots=True)
class SimAccount:
    config: AccountConfig
    market: MarketConfig
    engine: PartialFillEngine
    permissions: dict[str, bool]
    other_assets: dict[str, float]
    meta: dict[int, OrderMeta] = field(default_factory=dict)
    orders_per_client_id: Counter[str] = field(default_factory=Counter)
    duplicate_rejections: int = 0
    recent_orders: deque[float] = field(default_factory=deque)
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def create(cls, config: AccountConfig, market: MarketConfig) -> SimAccount:
        balances = Balances(
            base_free=config.balances.get(market.base, 0.0),
            quote_free=config.balances.get(market.quote, 0.0),
        )
        others = {
            asset: amount
            for asset, amount in config.balances.items()
            if asset not in (market.base, market.quote)
        }
        # An account paying fees with BNB hands its BNB to the engine, which spends it on fees.
        bnb = BnbWallet(others.pop(BNB, 0.0), market.bnb_price) if config.pay_fees_in_bnb else None
        engine = PartialFillEngine(
            maker_fee=market.maker_fee if config.maker_fee is None else config.maker_fee,
            taker_fee=market.taker_fee if config.taker_fee is None else config.taker_fee,
            balances=balances,
            fee_charge=FeeCharge.ASSET_RECEIVED,
            bnb=bnb,
        )
        return cls(config, market, engine, {**DEFAULT_PERMISSIONS, **config.permissions}, others)

    @property
    def api_key(self) -> str:
        return self.config.api_key

    # ---- orders -----------------------------------------------------------------------------
    def place(
        self, request: NewOrder, now_ms: int, orders_per_10s: int, *, fill_now: bool
    ) -> SimOrder:
        """Accept an order or raise Binance's rejection. ``fill_now`` (a fault) makes a limit
        order trade at once at the last price, as if it had crossed the book."""
        self._count_order(orders_per_10s)
        existing = self.engine.find(request.client_order_id)
        if existing is not None and existing.status is SimStatus.NEW:
            self.duplicate_rejections += 1
            raise duplicate_order()
        try:
            if request.price is None or fill_now:
                order = self.engine.place_market(
                    request.client_order_id, request.side, request.qty, now_ms
                )
            else:
                order = self.engine.place_limit(
                    request.client_order_id, request.side, request.price, request.qty, now_ms
                )
        except OrderRejected as exc:
            if exc.reason is RejectReason.INSUFFICIENT_FUNDS:
                raise insufficient_balance() from None
            raise BinanceError(-2010, str(exc)) from None
        self.meta[order.order_id] = OrderMeta(
            request.type,
            request.time_in_force,
            request.price or 0.0,
            request.orig_quote_qty,
            self.clock(),
        )
        self.orders_per_client_id[request.client_order_id] += 1
        return order

    def _count_order(self, limit: int) -> None:
        now = self.clock()
        while self.recent_orders and now - self.recent_orders[0] >= 10.0:
            self.recent_orders.popleft()
        if len(self.recent_orders) >= limit:
            raise too_many_orders(limit)
        self.recent_orders.append(now)

    def order_count_10s(self) -> int:
        return len(self.recent_orders)

    def visible(self, order: SimOrder, lag_s: float) -> bool:
        """False while a new order is still inside the exchange's visibility lag."""
        return lag_s <= 0 or self.clock() - self.meta[order.order_id].created_wall >= lag_s

    def lookup(self, order_id: int | None, client_order_id: str | None, lag_s: float) -> SimOrder:
        """An order by id or client id (the latest with that id), or -2013."""
        order: SimOrder | None
        if order_id is not None:
            order = self.engine.orders.get(order_id)
            if order is not None and client_order_id and order.client_order_id != client_order_id:
                order = None
        else:
            order = self.engine.find(client_order_id or "")
        if order is None or not self.visible(order, lag_s):
            raise order_not_found()
        return order

    def cancel(self, order_id: int | None, client_order_id: str | None, now_ms: int) -> SimOrder:
        """Cancel an open order, or -2011 when it is unknown or no longer open."""
        try:
            order = self.lookup(order_id, client_order_id, 0.0)
        except BinanceError:
            raise unknown_order_cancel() from None
        if order.status is not SimStatus.NEW:
            raise unknown_order_cancel()
        cancelled = self.engine.cancel(order.client_order_id, now_ms)
        assert cancelled is order  # one open order per client id: the engine refuses a second
        return order

    def orders(self, lag_s: float) -> list[SimOrder]:
        return [o for o in self.engine.orders.values() if self.visible(o, lag_s)]

    def trades(self, lag_s: float) -> list[SimTrade]:
        orders = self.engine.orders
        return [t for t in self.engine.trades if self.visible(orders[t.order_id], lag_s)]

    # ---- balances and state -----------------------------------------------------------------
    @property
    def fee_assets(self) -> dict[FeeAsset, str]:
        """The ``commissionAsset`` Binance names for each asset a fee can be paid in."""
        return {
            FeeAsset.BASE: self.market.base,
            FeeAsset.QUOTE: self.market.quote,
            FeeAsset.OTHER: BNB,  # the only other asset the simulator charges
        }

    def _other_assets(self) -> dict[str, float]:
        """Assets besides the pair's, BNB included while the engine spends it on fees."""
        wallet = self.engine.bnb
        return self.other_assets if wallet is None else {**self.other_assets, BNB: wallet.free}

    def balances_json(self) -> list[dict[str, str]]:
        b = self.engine.balances
        rows = [
            (self.market.base, b.base_free, b.base_locked),
            (self.market.quote, b.quote_free, b.quote_locked),
            *((asset, amount, 0.0) for asset, amount in sorted(self._other_assets().items())),
        ]
        return [{"asset": a, "free": fmt(free), "locked": fmt(locked)} for a, free, locked in rows]

    def duplicates(self) -> dict[str, int]:
        """Client order ids under which more than one order was created."""
        return {cid: n for cid, n in self.orders_per_client_id.items() if n > 1}

    def state(self) -> dict[str, Any]:
        """For the control endpoints: balances, counts, duplicates."""
        b = self.engine.balances
        return {
            "api_key": self.api_key,
            "balances": {
                self.market.base: {"free": b.base_free, "locked": b.base_locked},
                self.market.quote: {"free": b.quote_free, "locked": b.quote_locked},
                **{a: {"free": v, "locked": 0.0} for a, v in self._other_assets().items()},
            },
            "permissions": dict(self.permissions),
            "orders": len(self.engine.orders),
            "open_orders": len(self.engine.open_orders()),
            "trades": len(self.engine.trades),
            "duplicate_client_order_ids": self.duplicates(),
            "duplicate_rejections": self.duplicate_rejections,
        }
