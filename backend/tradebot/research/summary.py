"""Turn a grid's final state, its fills and its equity curve into a ``GridResult``.

The fast backtest and the paper replay both end here, so their reports cannot drift apart.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tradebot.candles.model import Candles
from tradebot.engine import core
from tradebot.engine import metrics as m
from tradebot.engine.plan import GridPlan
from tradebot.engine.types import Fill
from tradebot.research.result import GridResult


def summarize(
    plan: GridPlan,
    candles: Candles,
    state: npt.NDArray[np.float64],
    fills: list[Fill],
    equity_curve: npt.NDArray[np.float64],
) -> GridResult:
    config = plan.config
    investment = config.investment
    first_open = float(candles.open[0])
    last_close = float(candles.close[-1])
    final_quote = float(state[core.QUOTE])
    final_base = float(state[core.BASE])
    equity = final_quote + final_base * last_close
    span_days = len(candles) * candles.timeframe_ms / m.DAY_MS
    daily = m.daily_pnl(candles.ts, equity_curve, investment)
    grid_profit = float(state[core.GRID_PROFIT])
    return GridResult(
        plan=plan,
        round_trips=int(state[core.ROUND_TRIPS]),
        grid_profit=grid_profit,
        fees_paid=float(state[core.FEES]),
        final_base=final_base,
        final_quote=final_quote,
        equity=equity,
        total_pnl=equity - investment,
        max_drawdown=float(state[core.MAX_DRAWDOWN]),
        buy_and_hold_pnl=investment / first_open * last_close - investment,
        min_quote=float(state[core.MIN_QUOTE]),
        first_open=first_open,
        last_close=last_close,
        start_ts=int(candles.ts[0]),
        end_ts=int(candles.ts[-1]) + candles.timeframe_ms,
        days=span_days,
        apr_grid_profit=m.apr(grid_profit, investment, span_days),
        sharpe=m.sharpe_ratio(daily, investment),
        time_in_range=m.time_in_range(candles.close, config.lower, config.upper),
        stopped_by_take_profit=bool(state[core.STOPPED]),
        daily=daily,
        fills=fills,
        ts=candles.ts,
        equity_curve=equity_curve,
    )


def equity_from_fills(
    candles: Candles, fills: list[Fill], investment: float
) -> npt.NDArray[np.float64]:
    """Equity at every candle close rebuilt from the fills (which must be in time order).

    A paper run's equity curve comes from what it stored, so a run resumed after a crash still
    reports its whole history.
    """
    if not fills:
        return np.full(len(candles), investment)
    ts = np.fromiter((f.ts for f in fills), np.int64, len(fills))
    signs = np.fromiter(
        (1.0 if f.side.value == "buy" else -1.0 for f in fills), np.float64, len(fills)
    )
    notional = np.fromiter((f.price * f.qty for f in fills), np.float64, len(fills))
    fees = np.fromiter((f.fee for f in fills), np.float64, len(fills))
    qty = np.fromiter((f.qty for f in fills), np.float64, len(fills))
    quote = investment + np.cumsum(-signs * notional - fees)
    base = np.cumsum(signs * qty)
    closes_at = candles.ts + candles.timeframe_ms - 1
    last = np.searchsorted(ts, closes_at, side="right") - 1
    seen = last >= 0
    held_quote = np.where(seen, quote[np.maximum(last, 0)], investment)
    held_base = np.where(seen, base[np.maximum(last, 0)], 0.0)
    return held_quote + held_base * candles.close
