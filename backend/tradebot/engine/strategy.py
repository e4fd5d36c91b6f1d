"""The grid as the live run loop drives it: fills in, the desired book out.

The strategy never talks to a venue. It applies fills to the state vector with the same
compiled functions the backtest uses, and says which orders *should* rest: buys on every line
below the empty one, sells on every line above it. The runtime diffs that against the orders
that do rest, so start, counter orders and recovery after a crash are one mechanism.

Each fill is booked as the venue took its fee (``grid-semantics.md``, edge rules): in quote, the
spec's convention; out of the base a buy delivered (Binance spot), so the grid holds the base
that really arrived; or out of another asset (BNB), leaving the pair's balances as traded. Once
a fee has come out of the base, the grid holds less than the spec's sells ask for, and the sells
are sized from the base it really holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tradebot.engine import core
from tradebot.engine.plan import GridPlan
from tradebot.engine.types import FeeAsset, FeeConvention, Side

_CARRIED = (
    core.QUOTE,
    core.BASE,
    core.GRID_PROFIT,
    core.FEES,
    core.ROUND_TRIPS,
    core.BUY_FILLS,
    core.MIN_QUOTE,
    core.PEAK,
    core.MAX_DRAWDOWN,
    core.INVESTMENT,
    core.EQUITY,
)


class GridInvariantError(RuntimeError):
    """A fill that the one-empty-line book cannot produce: the run must stop, not guess."""


@dataclass(frozen=True, slots=True)
class WantedOrder:
    line: int
    side: Side
    price: float
    qty: float


@dataclass(frozen=True, slots=True)
class Snapshot:
    empty_line: int
    base: float
    quote: float
    grid_profit: float
    fees: float
    round_trips: int


class GridStrategy:
    def __init__(self, plan: GridPlan, state: npt.NDArray[np.float64] | None = None) -> None:
        self.plan = plan
        self.state = np.zeros(core.STATE_SIZE) if state is None else np.asarray(state, np.float64)
        self.fee_assets: set[FeeAsset] = set()
        """Where the venue took this run's fees from, as its fills said (a restarted run's
        runner tells it those of the fills it stored)."""

    # ---- lifecycle ----------------------------------------------------------------------
    def begin(self, price: float) -> float:
        """Choose the empty line for the first price; returns B0, the base to buy at market."""
        empty = int(core.nearest_line(self.plan.prices, float(price)))
        core.init_state(self.state, float(self.plan.config.investment), empty)
        return float(core.start_base(self.plan.qtys, empty))

    @property
    def started(self) -> bool:
        return bool(self.state[core.INVESTMENT] > 0)

    @property
    def stopped(self) -> bool:
        return bool(self.state[core.STOPPED])

    def stop(self) -> None:
        self.state[core.STOPPED] = 1.0

    def resume(self) -> None:
        """Trade again after a stop an operator has lifted (a reset guard, a restart)."""
        self.state[core.STOPPED] = 0.0

    # ---- fills --------------------------------------------------------------------------
    def on_market_fill(
        self,
        side: Side,
        price: float,
        qty: float,
        fee: float,
        *,
        fee_base: float = 0.0,
        fee_elsewhere: float = 0.0,
    ) -> None:
        """A fill off the lines (the start's buy, a close). ``fee`` is the part of its
        commission paid in quote, ``fee_base`` the part taken out of the base (in base) and
        ``fee_elsewhere`` the part paid in another asset (valued in quote)."""
        booked_qty, booked_fee = self._booked(side, price, qty, fee, fee_base, fee_elsewhere)
        if side is Side.BUY:
            core.apply_market_buy(self.state, float(price), booked_qty, booked_fee)
        else:
            core.apply_market_sell(self.state, float(price), booked_qty, booked_fee)
        self.state[core.FEES] += fee_elsewhere

    def on_fill(
        self,
        side: Side,
        line: int,
        price: float,
        qty: float,
        fee: float,
        *,
        fee_base: float = 0.0,
        fee_elsewhere: float = 0.0,
        late: bool = False,
    ) -> None:
        """A resting grid order filled; that line becomes the empty one. The fee is split as
        in ``on_market_fill``.

        In the spec's world buys fill top-down and sells bottom-up, one line at a time. Live, a
        counter order can still be in flight when the price runs on, so a fill may skip a line
        whose order was never placed; ``base_shortfall`` then tells the runtime what to buy back.
        A ``late`` fill (the venue reported it after a fill that happened later) moves balances
        and profit but not the empty line, which already stands where the later fill put it.
        Otherwise a buy above the empty line or a sell below it cannot come from this grid.
        """
        empty = self.empty_line
        if not late and not self.in_order(side, line):
            where = "at or above" if side is Side.BUY else "at or below"
            raise GridInvariantError(
                f"{side.value} filled at line {line}, {where} empty line {empty}"
            )
        booked_qty, booked_fee = self._booked(side, price, qty, fee, fee_base, fee_elsewhere)
        self._apply(side, line, price, booked_qty, booked_fee, qty)
        self.state[core.FEES] += fee_elsewhere
        if side is Side.SELL:
            # The spec's grid profit is net of the sell's whole fee; the core counted only
            # what the quote balance paid.
            self.state[core.GRID_PROFIT] -= booked_fee - fee + fee_elsewhere
        if late:
            self.state[core.EMPTY] = empty

    def in_order(self, side: Side, line: int) -> bool:
        """Whether a fill of ``side`` at ``line`` can come next: a buy below the empty line or
        a sell above it."""
        empty = self.empty_line
        return line < empty if side is Side.BUY else line > empty

    def _booked(
        self,
        side: Side,
        price: float,
        qty: float,
        fee: float,
        fee_base: float,
        fee_elsewhere: float,
    ) -> tuple[float, float]:
        """The quantity and quote fee to book so the grid's balances move as the account's did.

        A fee taken out of the base moves the base by ``fee_base`` more than the trade (a buy
        credits ``qty - fee_base``, a sell debits ``qty + fee_base``); booked with that fee
        valued at the fill price, the quote moves by the notional and the quote-paid fee only,
        and the fees count it once, in quote. A fee paid elsewhere moves neither."""
        for asset, amount in (
            (FeeAsset.QUOTE, fee),
            (FeeAsset.BASE, fee_base),
            (FeeAsset.OTHER, fee_elsewhere),
        ):
            if amount > 0:
                self.fee_assets.add(asset)
        booked_fee = float(fee + fee_base * price)
        if side is Side.BUY:
            return float(qty - fee_base), booked_fee
        return float(qty + fee_base), booked_fee

    def _apply(
        self, side: Side, line: int, price: float, qty: float, fee: float, traded: float
    ) -> None:
        """Book ``qty`` and ``fee`` (``_booked``); a sell's grid profit is counted against the
        buy of the ``traded`` quantity on the line below, as the spec counts it. The kernels
        take exact types: called with an ``int`` for a ``float`` they compile again, in the
        middle of trading (``engine.warm``)."""
        if side is Side.BUY:
            core.apply_buy_fill(self.state, int(line), float(price), qty, fee)
        elif line == 0:
            raise GridInvariantError("a sell cannot rest on the lowest line")
        else:
            maker_fee = float(self.plan.config.maker_fee)
            cost = core.cost_below(self.plan.prices, int(line), float(traded), maker_fee)
            core.apply_sell_fill(self.state, int(line), float(price), qty, fee, cost)

    @property
    def fee_convention(self) -> FeeConvention:
        """How this run's fees were booked: the spec's quote fee, unless the venue took some
        out of what a trade delivered or out of another asset."""
        if self.fee_assets <= {FeeAsset.QUOTE}:
            return FeeConvention.QUOTE_FEE
        return FeeConvention.ASSET_RECEIVED

    def mark(self, price: float) -> float:
        """Equity at ``price``, tracking peak and drawdown exactly as the backtest does."""
        return float(core.mark_equity(self.state, float(price)))

    def take_profit_reached(self, equity: float) -> bool:
        tp = self.plan.config.take_profit
        return tp > 0 and equity >= self.investment * (1 + tp)

    @property
    def investment(self) -> float:
        """The run's capital: the first grid's investment, kept when the grid is re-centred."""
        return float(self.state[core.INVESTMENT])

    def recentre(self, plan: GridPlan, price: float) -> None:
        """Trade ``plan`` from now on, keeping the balances, profit, fees and drawdown record.

        The empty line is the new grid's line nearest to ``price``; the book sync then moves
        the orders, buying whatever base the new sells need.
        """
        kept = self.state.copy()
        self.plan = plan
        investment = float(plan.config.investment)
        core.init_state(self.state, investment, core.nearest_line(plan.prices, float(price)))
        for slot in _CARRIED:
            self.state[slot] = kept[slot]

    # ---- the book -----------------------------------------------------------------------
    @property
    def empty_line(self) -> int:
        return int(self.state[core.EMPTY])

    def wanted(self) -> list[WantedOrder]:
        """Every order the grid should have resting now (none once stopped)."""
        if self.stopped or not self.started:
            return []
        prices, qtys = self.plan.prices, self.plan.qtys
        empty = self.empty_line
        buys = [WantedOrder(i, Side.BUY, float(prices[i]), float(qtys[i])) for i in range(empty)]
        sells = [
            WantedOrder(j, Side.SELL, float(prices[j]), float(qtys[j - 1]))
            for j in range(empty + 1, self.plan.lines)
        ]
        if FeeAsset.BASE in self.fee_assets:
            sells = self._sells_from_base_held(sells)
        return buys + sells

    def _sells_from_base_held(self, sells: list[WantedOrder]) -> list[WantedOrder]:
        """The sells cut to the base the grid really holds, once fees have come out of it.

        Each buy whose fee the venue took from its base delivered its q less the fee, so the
        grid holds less than the spec's sells ask for. The base goes to the sells nearest the
        price first, each its full q_(j-1) (the spec's size); the first that the rest cannot
        cover takes what is left in whole lot steps, and a sell below the exchange's minimums
        is not placed. Never more than held is offered, the counter-sells about to trade keep
        their size, and the one sell that shrinks changes only when the fees have taken
        another lot step: the book is not re-placed on every fill.
        """
        available = float(self.state[core.BASE])
        held: list[WantedOrder] = []
        for sell in sells:  # lowest line first
            qty = sell.qty
            if available < qty * (1 - 1e-9):
                qty = self.plan.whole_lots_below(available)
            if not self.plan.tradable(sell.price, qty):
                break
            held.append(WantedOrder(sell.line, sell.side, sell.price, qty))
            available -= qty
        return held

    def base_shortfall(self) -> float:
        """Base to buy at market so the spec's sells are covered (0 when the book is whole).

        Once the venue takes fees out of the base, the buy is grossed up for its taker fee,
        which comes out of what arrives. What is missing is 0 when it is less than the exchange
        trades: an order for it could only be rejected (a fee's worth of base, say)."""
        if self.stopped or not self.started:
            return 0.0
        empty = self.empty_line
        missing = max(0.0, self.plan.start_base(empty) - float(self.state[core.BASE]))
        if FeeAsset.BASE in self.fee_assets:
            missing /= 1 - self.plan.config.taker_fee
        if not self.plan.tradable(float(self.plan.prices[empty]), missing):
            return 0.0
        return missing

    def snapshot(self) -> Snapshot:
        s = self.state
        return Snapshot(
            empty_line=self.empty_line,
            base=float(s[core.BASE]),
            quote=float(s[core.QUOTE]),
            grid_profit=float(s[core.GRID_PROFIT]),
            fees=float(s[core.FEES]),
            round_trips=int(s[core.ROUND_TRIPS]),
        )
