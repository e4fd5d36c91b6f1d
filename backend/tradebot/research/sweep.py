"""The parameter sweep: every combination of lower, upper, lines and spacing over one candle series.

Each valid combination becomes a ``GridPlan`` (the plan refuses grids whose spacing the fees
eat); the plans' lines are packed into flat arrays and ``engine.core.sweep`` walks them in
parallel: the same compiled walk as the backtest, so a combination's figures equal
``run_backtest``'s for that grid. Combinations are run in chunks so a progress bar can move.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import get_num_threads

from tradebot.candles.model import Candles
from tradebot.engine import core
from tradebot.engine.errors import GridPlanError
from tradebot.engine.plan import GridPlan, build_plan
from tradebot.engine.types import GridConfig, MarketRules, Spacing
from tradebot.errors import BadInputError, CandleDataError
from tradebot.research.choices import PARAMETERS, RANKING

MAX_COMBINATIONS = 200_000


@dataclass(frozen=True, slots=True)
class Metric:
    """A figure a sweep can rank by: its column in ``core.sweep``'s rows and which way is better."""

    name: str
    column: int
    higher_is_better: bool = True


_COLUMNS = {
    "total_pnl": core.R_TOTAL_PNL,
    "return_pct": -1,  # derived from total_pnl
    "grid_profit": core.R_GRID_PROFIT,
    "sharpe": core.R_SHARPE,
    "max_drawdown": core.R_MAX_DRAWDOWN,
    "round_trips": core.R_ROUND_TRIPS,
    "fees_paid": core.R_FEES,
    "equity": core.R_EQUITY,
    "min_quote": core.R_MIN_QUOTE,
}
METRICS = {name: Metric(name, _COLUMNS[name], higher) for name, higher in RANKING.items()}


def metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise BadInputError(f"unknown metric {name!r} (choose from {', '.join(METRICS)})") from None


@dataclass(frozen=True, slots=True)
class SweepSpace:
    """The values to combine, and what every combination shares (capital, fees, take profit,
    the exchange's rounding: None trades the exact grid, as the spec's oracle does)."""

    lowers: tuple[float, ...]
    uppers: tuple[float, ...]
    lines: tuple[int, ...]
    spacings: tuple[Spacing, ...]
    investment: float
    maker_fee: float
    taker_fee: float
    take_profit: float = 0.0
    rules: MarketRules | None = None

    @property
    def size(self) -> int:
        return len(self.lowers) * len(self.uppers) * len(self.lines) * len(self.spacings)

    def configs(self) -> Iterator[GridConfig]:
        for lower, upper, lines, spacing in itertools.product(
            self.lowers, self.uppers, self.lines, self.spacings
        ):
            yield GridConfig(
                lower=lower,
                upper=upper,
                lines=lines,
                investment=self.investment,
                spacing=spacing,
                maker_fee=self.maker_fee,
                taker_fee=self.taker_fee,
                take_profit=self.take_profit,
            )


@dataclass(slots=True)
class Skipped:
    """Combinations that are no grid, counted by reason, with the first refusal as an example."""

    lower_not_below_upper: int = 0
    refused: int = 0
    example: str = ""

    @property
    def total(self) -> int:
        return self.lower_not_below_upper + self.refused

    def describe(self) -> str:
        text = f"lower >= upper: {self.lower_not_below_upper}, refused by the plan: {self.refused}"
        return f"{text} (e.g. {self.example})" if self.example else text

    def to_json(self) -> dict[str, Any]:
        return {
            "lower_not_below_upper": self.lower_not_below_upper,
            "refused": self.refused,
            "example": self.example,
        }


def plan_space(space: SweepSpace) -> tuple[list[GridPlan], Skipped]:
    """A plan per valid combination; the others are counted, never raised."""
    if space.size > MAX_COMBINATIONS:
        raise BadInputError(
            f"{space.size} combinations is over the limit of {MAX_COMBINATIONS}: narrow the ranges"
        )
    plans: list[GridPlan] = []
    skipped = Skipped()
    for config in space.configs():
        if config.lower >= config.upper:
            skipped.lower_not_below_upper += 1
            continue
        try:
            plans.append(build_plan(config, space.rules))
        except GridPlanError as exc:
            skipped.refused += 1
            skipped.example = skipped.example or str(exc)
    if not plans:
        raise BadInputError(
            f"none of the {space.size} combinations is a valid grid ({skipped.describe()})"
        )
    return plans, skipped


@dataclass(slots=True)
class SweepResult:
    """One row of ``core.sweep`` figures per valid plan, in the order the space produced them."""

    space: SweepSpace
    plans: list[GridPlan]
    figures: npt.NDArray[np.float64]
    skipped: Skipped
    candles: int
    start_ts: int
    end_ts: int
    _params: dict[str, npt.NDArray[Any]] = field(default_factory=dict, repr=False)
    _derived: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict, repr=False)

    def values(self, name: str) -> npt.NDArray[np.float64]:
        """One metric for every plan."""
        chosen = metric(name)
        if chosen.column >= 0:
            return self.figures[:, chosen.column]
        if name not in self._derived:  # return_pct
            self._derived[name] = self.figures[:, core.R_TOTAL_PNL] / self.space.investment * 100
        return self._derived[name]

    def ranking(self, name: str) -> npt.NDArray[np.int64]:
        """Plan indices, best first; ties keep the space's order."""
        values = self.values(name)
        key = -values if metric(name).higher_is_better else values
        return np.argsort(key, kind="stable").astype(np.int64)

    def param(self, name: str) -> npt.NDArray[Any]:
        """A parameter's value for every plan (spacing as its name)."""
        if name not in self._params:
            pick: Callable[[GridConfig], Any] = {
                "lower": lambda c: c.lower,
                "upper": lambda c: c.upper,
                "lines": lambda c: c.lines,
                "spacing": lambda c: c.spacing.value,
            }[name]
            self._params[name] = np.array([pick(p.config) for p in self.plans])
        return self._params[name]

    def row(self, index: int) -> dict[str, Any]:
        """A plan's parameters and every figure, as the CSV and JSON write them."""
        config = self.plans[index].config
        out: dict[str, Any] = {
            "lower": config.lower,
            "upper": config.upper,
            "lines": config.lines,
            "spacing": config.spacing.value,
        }
        for name in METRICS:
            value = float(self.values(name)[index])
            out[name] = int(value) if name == "round_trips" else value
        return out

    def ranked_rows(self, name: str, top: int | None = None) -> list[dict[str, Any]]:
        """``row`` of the best ``top`` plans (all by default), best first, with their rank."""
        order = self.ranking(name)[:top]
        return [{"rank": rank, **self.row(int(i))} for rank, i in enumerate(order, start=1)]

    def to_json(self, name: str) -> dict[str, Any]:
        space = self.space
        return {
            "metric": name,
            "combinations": space.size,
            "valid": len(self.plans),
            "skipped": self.skipped.to_json(),
            "investment": space.investment,
            "maker_fee": space.maker_fee,
            "taker_fee": space.taker_fee,
            "take_profit": space.take_profit,
            "candles": self.candles,
            "start_ts": self.start_ts,
            "end_ts": self.end_ts,
            "results": self.ranked_rows(name),
        }


def _packed(
    plans: list[GridPlan],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    offsets = np.zeros(len(plans) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([p.lines for p in plans])
    prices = np.concatenate([p.prices for p in plans])
    qtys = np.concatenate([p.qtys for p in plans])
    return offsets, prices, qtys


def chunk_size(combos: int, threads: int, steps: int = 50) -> int:
    """Combinations per ``core.sweep`` call: about ``steps`` progress steps, a multiple of the
    thread count so every thread has an equal share of each chunk."""
    per_step = max(threads * 4, math.ceil(combos / steps))
    return math.ceil(per_step / threads) * threads


def run_sweep(
    space: SweepSpace,
    candles: Candles,
    *,
    progress: Callable[[int, int], None] | None = None,
    planned: tuple[list[GridPlan], Skipped] | None = None,
) -> SweepResult:
    """Plan every combination (unless ``planned`` is ``plan_space(space)``), then walk all
    valid plans over ``candles``.

    ``progress(done, total)`` is called after each chunk of plans (and once with 0 before).
    Raises BadInputError when no combination is a valid grid.
    """
    if len(candles) == 0:
        raise CandleDataError(f"{candles.source or 'candles'}: no candles to sweep over")
    plans, skipped = planned or plan_space(space)
    offsets, prices, qtys = _packed(plans)
    investments = np.full(len(plans), space.investment)
    day_ends = candles.day_ends()
    figures = np.empty((len(plans), core.R_COLUMNS))
    threads = max(1, get_num_threads())
    step = chunk_size(len(plans), threads)
    if progress:
        progress(0, len(plans))
    for start in range(0, len(plans), step):
        stop = min(start + step, len(plans))
        figures[start:stop] = core.sweep(
            candles.open,
            candles.high,
            candles.low,
            candles.close,
            day_ends,
            offsets[start : stop + 1],
            prices,
            qtys,
            investments[start:stop],
            space.maker_fee,
            space.taker_fee,
            space.take_profit,
            threads,
        )
        if progress:
            progress(stop, len(plans))
    return SweepResult(
        space=space,
        plans=plans,
        figures=figures,
        skipped=skipped,
        candles=len(candles),
        start_ts=int(candles.ts[0]),
        end_ts=int(candles.ts[-1]) + candles.timeframe_ms,
    )


@dataclass(frozen=True, slots=True)
class Heatmap:
    """The best value of a metric for each pair of two parameters' values (over all others)."""

    x: str
    y: str
    metric: str
    x_values: list[Any]
    y_values: list[Any]
    z: list[list[float | None]]
    """z[row for y][column for x]; None where no valid combination had those two values."""
    best: list[list[int | None]]
    """Index of the plan that gave each cell's value."""


def heatmap(result: SweepResult, name: str, x: str, y: str) -> Heatmap:
    """Aggregate ``name`` over the parameters other than ``x`` and ``y`` by keeping the best."""
    for axis in (x, y):
        if axis not in PARAMETERS:
            raise BadInputError(
                f"unknown heatmap axis {axis!r} (choose from {', '.join(PARAMETERS)})"
            )
    if x == y:
        raise BadInputError(f"heatmap axes must differ (both are {x!r})")
    values = result.values(name)
    xs, ys = result.param(x), result.param(y)
    # The axes show every value asked for, so skipped combinations appear as blank cells.
    asked = {
        "lower": result.space.lowers,
        "upper": result.space.uppers,
        "lines": result.space.lines,
        "spacing": [s.value for s in result.space.spacings],
    }
    x_values, y_values = sorted(asked[x]), sorted(asked[y])
    col = {v: i for i, v in enumerate(x_values)}
    row = {v: i for i, v in enumerate(y_values)}
    z: list[list[float | None]] = [[None] * len(x_values) for _ in y_values]
    best: list[list[int | None]] = [[None] * len(x_values) for _ in y_values]
    # Walking plans from worst to best leaves the best in each cell (ties: the earliest plan).
    for index in result.ranking(name)[::-1].tolist():
        r, c = row[ys[index].item()], col[xs[index].item()]
        z[r][c] = float(values[index])
        best[r][c] = index
    return Heatmap(x=x, y=y, metric=name, x_values=x_values, y_values=y_values, z=z, best=best)
