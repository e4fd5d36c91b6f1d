"""The grid as the live run loop drives it: fills in, the desired book out.

The strategy never talks to a venue. It applies fills to the state vector with the same
compiled functions the backtest uses, and says which orders *should* rest: buys on every line
below the empty one, sells on every line above it. The runtime diffs that against the orders
that do rest, so start, counter orders and recovery after a crash are one mechanism.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tradebot.engine import core
from tradebot.engine.plan import GridPlan
from tradebot.engine.types import Side

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

    # ---- lifecycle ----------------------------------------------------------------------
    def begin(self, price: float) -> float:
        """Choose the empty line for the first price; returns B0, the base to buy at market."""
        empty = int(core.nearest_line(self.plan.prices, price))
        core.init_state(self.state, self.plan.config.investment, empty)
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
    def on_market_fill(self, side: Side, price: float, qty: float, fee: float) -> None:
        if side is Side.BUY:
            core.apply_market_buy(self.state, price, qty, fee)
        else:
            core.apply_market_sell(self.state, price, qty, fee)

    def on_fill(
        self, side: Side, line: int, price: float, qty: float, fee: float, *, late: bool = False
    ) -> None:
        """A resting grid order filled; that line becomes the empty one.

        In the spec's world buys fill top-down and sells bottom-up, one line at a time. Live, a
        counter order can still be in flight when the price runs on, so a fill may skip a line
        whose order was never placed; ``base_shortfall`` then tells the runtime what to buy back.
        A ``late`` fill (the venue reported it after a fill that happened later) moves balances
        and profit but not the empty line, which already stands where the later fill put it.
        Otherwise a buy above the empty line or a sell below it cannot come from this grid.
        """
        empty = self.empty_line
        if late:
            self._apply(side, line, price, qty, fee)
            self.state[core.EMPTY] = empty
            return
        if not self.in_order(side, line):
            where = "at or above" if side is Side.BUY else "at or below"
            raise GridInvariantError(
                f"{side.value} filled at line {line}, {where} empty line {empty}"
            )
        self._apply(side, line, price, qty, fee)

    def in_order(self, side: Side, line: int) -> bool:
        """Whether a fill of ``side`` at ``line`` can come next: a buy below the empty line or
        a sell above it."""
        empty = self.empty_line
        return line < empty if side is Side.BUY else line > empty

    def _apply(self, side: Side, line: int, price: float, qty: float, fee: float) -> None:
        if side is Side.BUY:
            core.apply_buy_fill(self.state, line, price, qty, fee)
        elif line == 0:
            raise GridInvariantError("a sell cannot rest on the lowest line")
        else:
            cost = core.cost_below(self.plan.prices, line, qty, self.plan.config.maker_fee)
            core.apply_sell_fill(self.state, line, price, qty, fee, cost)

    def mark(self, price: float) -> float:
        """Equity at ``price``, tracking peak and drawdown exactly as the backtest does."""
        return float(core.mark_equity(self.state, price))

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
        core.init_state(self.state, plan.config.investment, core.nearest_line(plan.prices, price))
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
        return buys + sells

    def base_shortfall(self) -> float:
        """Base the wanted sells need beyond what the grid holds (0 when the book is whole)."""
        needed = sum(order.qty for order in self.wanted() if order.side is Side.SELL)
        return max(0.0, needed - float(self.state[core.BASE]))

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
