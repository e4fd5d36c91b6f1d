"""What a grid run over candles produced: the spec's results plus the figures users compare."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tradebot.engine.metrics import DailyPnl
from tradebot.engine.plan import GridPlan
from tradebot.engine.types import FeeConvention, Fill

# The spec's result names, in its order: the keys of ``--json``.
SPEC_RESULTS = (
    "round_trips",
    "grid_profit",
    "fees_paid",
    "final_base",
    "final_quote",
    "equity",
    "total_pnl",
    "max_drawdown",
    "buy_and_hold_pnl",
    "min_quote",
)


@dataclass(slots=True)
class GridResult:
    plan: GridPlan
    round_trips: int
    grid_profit: float
    fees_paid: float
    final_base: float
    final_quote: float
    equity: float
    total_pnl: float
    max_drawdown: float
    buy_and_hold_pnl: float
    min_quote: float
    first_open: float
    last_close: float
    start_ts: int
    end_ts: int
    days: float
    apr_grid_profit: float
    sharpe: float
    time_in_range: float
    stopped_by_take_profit: bool
    daily: list[DailyPnl]
    fills: list[Fill]
    ts: npt.NDArray[np.int64] = field(repr=False)
    equity_curve: npt.NDArray[np.float64] = field(repr=False)
    fee_convention: FeeConvention = FeeConvention.QUOTE_FEE
    """Which asset the run's fees were taken from: always quote here (the backtest and the
    paper replay keep the spec's convention); a live run books them as the exchange charged
    them and reports that in its outcome."""

    @property
    def investment(self) -> float:
        return self.plan.config.investment

    def spec_results(self) -> dict[str, float | int]:
        return {name: getattr(self, name) for name in SPEC_RESULTS}

    def to_json(self) -> dict[str, Any]:
        """The spec's names as top-level keys, then everything else a report needs."""
        out: dict[str, Any] = dict(self.spec_results())
        out.update(
            investment=self.investment,
            fee_convention=self.fee_convention.value,
            buy_and_hold_return_pct=self.buy_and_hold_pnl / self.investment * 100,
            total_return_pct=self.total_pnl / self.investment * 100,
            apr_grid_profit=self.apr_grid_profit,
            sharpe=self.sharpe,
            time_in_range=self.time_in_range,
            stopped_by_take_profit=self.stopped_by_take_profit,
            first_open=self.first_open,
            last_close=self.last_close,
            start_ts=self.start_ts,
            end_ts=self.end_ts,
            days=self.days,
            candles=int(self.ts.shape[0]),
            fills=len(self.fills),
            daily_pnl=[{"day_ms": d.day_ms, "pnl": d.pnl, "equity": d.equity} for d in self.daily],
            plan=self.plan.summary(self.first_open),
        )
        return out
