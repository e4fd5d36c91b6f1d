"""Performance figures from an equity series: daily P&L, Sharpe, APR, time in range."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

DAY_MS = 86_400_000
YEAR_DAYS = 365.0


@dataclass(frozen=True, slots=True)
class DailyPnl:
    day_ms: int
    """Midnight UTC of the day, in ms."""
    pnl: float
    equity: float


def daily_pnl(
    ts: npt.NDArray[np.int64], equity: npt.NDArray[np.float64], investment: float
) -> list[DailyPnl]:
    """P&L of each UTC day: equity at its last close minus equity at the previous day's close."""
    if ts.size == 0:
        return []
    day = ts // DAY_MS
    ends = np.append(np.flatnonzero(day[1:] != day[:-1]), ts.size - 1)
    closing = equity[ends]
    previous = np.concatenate(([investment], closing[:-1]))
    return [
        DailyPnl(day_ms=int(day[i] * DAY_MS), pnl=float(eq - prev), equity=float(eq))
        for i, eq, prev in zip(ends, closing, previous, strict=True)
    ]


def sharpe_ratio(days: list[DailyPnl], investment: float) -> float:
    """Annualised Sharpe of daily returns (risk-free rate 0, 365-day crypto year)."""
    if len(days) < 2:
        return 0.0
    equity = np.array([investment] + [d.equity for d in days])
    returns = equity[1:] / equity[:-1] - 1.0
    std = float(returns.std(ddof=1))
    if std <= 1e-12:
        return 0.0
    return float(returns.mean() / std * math.sqrt(YEAR_DAYS))


def apr(profit: float, investment: float, span_days: float) -> float:
    """Simple annualised rate of ``profit`` on ``investment`` over ``span_days``."""
    if span_days <= 0 or investment <= 0:
        return 0.0
    return profit / investment / span_days * YEAR_DAYS


def time_in_range(closes: npt.NDArray[np.float64], lower: float, upper: float) -> float:
    """Fraction of candles that closed inside [lower, upper]."""
    if closes.size == 0:
        return 0.0
    return float(np.count_nonzero((closes >= lower) & (closes <= upper)) / closes.size)
