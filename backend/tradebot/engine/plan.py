"""Grid lines, order sizes and the exchange's rounding; the plan refuses a grid that cannot trade.

Lines and sizes follow ``grid-semantics.md``: cell i spans [p_i, p_(i+1)] and trades the fixed
base quantity q_i = (C / (n - 1)) / p_i. With market rules enabled, prices snap to the tick and
quantities round down to the lot step, and every order must clear the exchange's minimums.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tradebot.engine import core
from tradebot.engine.errors import GridPlanError
from tradebot.engine.types import GridConfig, MarketRules, Spacing

FloatArray = npt.NDArray[np.float64]


def grid_prices(lower: float, upper: float, lines: int, spacing: Spacing) -> FloatArray:
    """The n line prices, exactly as the spec's formulas (no rounding)."""
    i = np.arange(lines, dtype=np.float64)
    if spacing is Spacing.GEOMETRIC:
        return lower * (upper / lower) ** (i / (lines - 1))
    return lower + i * (upper - lower) / (lines - 1)


def _round_to_step(values: FloatArray, step: float, *, down: bool) -> FloatArray:
    if step <= 0:
        return values
    # The epsilon keeps 0.3 / 0.1 = 2.9999999 from losing a whole step to float noise.
    scaled = values / step
    snapped = np.floor(scaled + 1e-9) if down else np.round(scaled)
    decimals = max(0, -math.floor(math.log10(step)) + 2)
    return np.round(snapped * step, decimals)


def validate_config(config: GridConfig) -> None:
    """Refuse what can never be a grid, each with one line that names the field."""
    checks = (
        (
            math.isfinite(config.lower) and config.lower > 0,
            f"lower must be > 0 (got {config.lower})",
        ),
        (math.isfinite(config.upper), f"upper must be a number (got {config.upper})"),
        (
            config.lower < config.upper,
            f"lower ({config.lower}) must be below upper ({config.upper})",
        ),
        (config.lines >= 2, f"lines must be at least 2 (got {config.lines})"),
        (
            math.isfinite(config.investment) and config.investment > 0,
            f"investment must be > 0 (got {config.investment})",
        ),
        (0 <= config.maker_fee < 0.1, f"maker fee must be in [0, 0.1) (got {config.maker_fee})"),
        (0 <= config.taker_fee < 0.1, f"taker fee must be in [0, 0.1) (got {config.taker_fee})"),
        (config.take_profit >= 0, f"take profit must be >= 0 (got {config.take_profit})"),
    )
    for ok, message in checks:
        if not ok:
            raise GridPlanError(message)


@dataclass(frozen=True, slots=True)
class CellProfit:
    """Profit of one round trip on one cell after both maker fees."""

    quote: float
    pct: float


@dataclass(frozen=True, slots=True)
class GridPlan:
    """A validated grid: line prices, per-cell quantities and the rules that produced them."""

    config: GridConfig
    rules: MarketRules
    prices: FloatArray
    qtys: FloatArray
    """qtys[i] is q_i, the base quantity of cell i; the last entry is unused (no cell above)."""

    @property
    def lines(self) -> int:
        return int(self.prices.shape[0])

    def empty_line_for(self, price: float) -> int:
        """Index of the line nearest to ``price``; a tie goes to the lower index."""
        return int(core.nearest_line(self.prices, price))

    def start_base(self, empty: int) -> float:
        """B0: the base the sells above the empty line need, bought at start."""
        return float(core.start_base(self.qtys, empty))

    def whole_lots_below(self, qty: float) -> float:
        """``qty`` down to a whole number of lot steps (as is with no step)."""
        return float(_round_to_step(np.array([qty]), self.rules.lot_step, down=True)[0])

    def tradable(self, price: float, qty: float) -> bool:
        """Whether an order of ``qty`` at ``price`` clears the exchange's minimums."""
        rules = self.rules
        return qty > 0 and qty >= rules.min_qty and qty * price >= rules.min_notional

    def cell_profits(self) -> list[CellProfit]:
        f = self.config.maker_fee
        cells = []
        for i in range(self.lines - 1):
            buy = self.qtys[i] * self.prices[i] * (1 + f)
            sell = self.qtys[i] * self.prices[i + 1] * (1 - f)
            cells.append(CellProfit(quote=float(sell - buy), pct=float((sell - buy) / buy * 100)))
        return cells

    def summary(self, reference_price: float | None = None) -> dict[str, Any]:
        """What SUMMARY_ONLY prints and PLAN_JSON_PATH stores: a plan a human can check."""
        cells = self.cell_profits()
        worst = min(cells, key=lambda c: c.pct)
        best = max(cells, key=lambda c: c.pct)
        summary: dict[str, Any] = {
            "lower": self.config.lower,
            "upper": self.config.upper,
            "lines": self.lines,
            "spacing": self.config.spacing.value,
            "investment": self.config.investment,
            "maker_fee": self.config.maker_fee,
            "taker_fee": self.config.taker_fee,
            "line_prices": [float(p) for p in self.prices],
            "order_sizes": [float(q) for q in self.qtys[:-1]],
            "order_quote_per_cell": self.config.investment / (self.lines - 1),
            "capital_needed": self.config.investment,
            "min_investment": min_investment(self.prices, self.rules),
            "profit_per_grid_pct_min": worst.pct,
            "profit_per_grid_pct_max": best.pct,
            "profit_per_grid_quote_min": worst.quote,
            "profit_per_grid_quote_max": best.quote,
        }
        if reference_price is not None:
            empty = self.empty_line_for(reference_price)
            base = self.start_base(empty)
            summary.update(
                reference_price=reference_price,
                empty_line=empty,
                start_buy_orders=empty,
                start_sell_orders=self.lines - 1 - empty,
                start_base_to_buy=base,
                start_quote_for_base=base * reference_price * (1 + self.config.taker_fee),
            )
        return summary


def build_plan(config: GridConfig, rules: MarketRules | None = None) -> GridPlan:
    """Validate ``config`` and compute lines and sizes, or raise GridPlanError with the reason."""
    validate_config(config)
    rules = rules or MarketRules()
    raw = grid_prices(config.lower, config.upper, config.lines, config.spacing)
    prices = _round_to_step(raw, rules.tick_size, down=False)
    if np.any(np.diff(prices) <= 0):
        raise GridPlanError(
            f"tick size {rules.tick_size} merges grid lines: use fewer lines or a wider range"
        )
    per_cell = config.investment / (config.lines - 1)
    qtys = np.empty_like(prices)
    qtys[:-1] = _round_to_step(per_cell / prices[:-1], rules.lot_step, down=True)
    qtys[-1] = 0.0
    _check_minimums(prices, qtys, rules, config)
    plan = GridPlan(config=config, rules=rules, prices=prices, qtys=qtys)
    worst = min(plan.cell_profits(), key=lambda c: c.quote)
    if worst.quote <= 0:
        raise GridPlanError(
            f"grid spacing is too tight for the fees: a round trip nets {worst.pct:.4f}% "
            f"(spacing must exceed about 2 x maker fee = {2 * config.maker_fee:.4%})"
        )
    return plan


def min_investment(prices: FloatArray, rules: MarketRules) -> float:
    """The smallest investment (cents, rounded up) whose every order on ``prices`` clears the
    exchange's minimum notional and quantity, with one lot step of headroom for rounding."""
    step_room = rules.lot_step * prices[:-1]
    need_per_cell = max(
        float(np.max(rules.min_notional + step_room)),
        float(np.max((rules.min_qty + rules.lot_step) * prices[:-1])),
    )
    return math.ceil(need_per_cell * (len(prices) - 1) * 100) / 100


def _check_minimums(
    prices: FloatArray, qtys: FloatArray, rules: MarketRules, config: GridConfig
) -> None:
    notionals = prices[:-1] * qtys[:-1]
    smallest = int(np.argmin(notionals))
    too_small_notional = rules.min_notional > 0 and notionals[smallest] < rules.min_notional
    too_small_qty = qtys[:-1].min() <= 0 or (rules.min_qty > 0 and qtys[:-1].min() < rules.min_qty)
    if not (too_small_notional or too_small_qty):
        return
    need = min_investment(prices, rules)
    raise GridPlanError(
        f"investment {config.investment:g} is too small for {config.lines} lines: the order at "
        f"{prices[smallest]:g} would be {notionals[smallest]:.8g} quote "
        f"(qty {qtys[smallest]:.8g}), "
        f"under the exchange minimum; invest at least {need:g} or use fewer lines"
    )
