"""A simple market regime read from recent closes: how volatile, which way, and what grid fits.

Volatility is the standard deviation of log returns scaled to a day; trend is the mean log
return in % per day, with its t-statistic deciding whether the drift is real. The suggestion
re-centres the range on the last close with a width of a few daily moves, which is what a grid
wants in a ranging market.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

DAY_MS = 86_400_000


class Regime(StrEnum):
    RANGING = "ranging"
    TRENDING_UP = "trending_up"
    TRENDING_DOWN = "trending_down"


@dataclass(frozen=True, slots=True)
class RegimeAnalysis:
    regime: Regime
    daily_volatility_pct: float
    trend_pct_per_day: float
    trend_t_stat: float
    last_close: float
    suggested_lower: float
    suggested_upper: float


def analyse(
    closes: npt.NDArray[np.float64],
    timeframe_ms: int,
    *,
    width_in_daily_moves: float = 3.0,
    trend_t_threshold: float = 2.5,
) -> RegimeAnalysis:
    """Read the regime of ``closes`` (at least 3, oldest first, one timeframe apart)."""
    if closes.shape[0] < 3 or np.any(closes <= 0):
        raise ValueError("regime analysis needs at least 3 positive closes")
    logs = np.log(closes)
    returns = np.diff(logs)
    per_day = DAY_MS / timeframe_ms
    daily_vol = float(returns.std(ddof=1) * math.sqrt(per_day))
    # Drift is the mean log return; its t-statistic (not a regression on prices, which a
    # random walk fools) says whether the drift stands out of the noise.
    drift = float(returns.mean())
    spread = float(returns.std(ddof=1))
    t_stat = drift / (spread / math.sqrt(returns.shape[0])) if spread > 0 else 0.0
    if abs(t_stat) < trend_t_threshold:
        regime = Regime.RANGING
    else:
        regime = Regime.TRENDING_UP if drift > 0 else Regime.TRENDING_DOWN
    last = float(closes[-1])
    half_width = max(daily_vol, 1e-4) * width_in_daily_moves
    return RegimeAnalysis(
        regime=regime,
        daily_volatility_pct=daily_vol * 100,
        trend_pct_per_day=math.expm1(drift * per_day) * 100,
        trend_t_stat=t_stat,
        last_close=last,
        suggested_lower=last * math.exp(-half_width),
        suggested_upper=last * math.exp(half_width),
    )
