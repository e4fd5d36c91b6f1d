"""The fast backtest: one compiled walk over the candle columns."""

from __future__ import annotations

import numpy as np

from tradebot.candles.model import Candles
from tradebot.engine import core
from tradebot.engine.plan import GridPlan
from tradebot.engine.types import Fill, Side
from tradebot.engine.walk import segment_end_ms
from tradebot.errors import CandleDataError
from tradebot.research.result import GridResult
from tradebot.research.summary import summarize


def run_backtest(plan: GridPlan, candles: Candles, *, record_fills: bool = True) -> GridResult:
    """Start the grid at the first open and walk every candle, as ``grid-semantics.md`` says."""
    if len(candles) == 0:
        raise CandleDataError(f"{candles.source or 'candles'}: no candles to backtest")
    config = plan.config
    state = np.empty(core.STATE_SIZE)
    p0 = float(candles.open[0])
    b0 = core.start_grid(state, plan.prices, plan.qtys, config.investment, p0, config.taker_fee)
    n = len(candles)
    capacity = max(1024, n // 4) if record_fills else 0
    equity = np.empty(n)
    every = np.arange(n, dtype=np.int64)
    args = (
        candles.open,
        candles.high,
        candles.low,
        candles.close,
        plan.prices,
        plan.qtys,
        config.maker_fee,
        config.taker_fee,
        config.take_profit,
    )
    start_state = state.copy()
    records = np.empty((capacity, core.FILL_COLUMNS), dtype=np.int64)
    count = core.walk(*args, state, records, every, equity)
    if count > capacity:  # rare: more fills than the first guess; rerun with the exact size
        state[:] = start_state
        records = np.empty((count, core.FILL_COLUMNS), dtype=np.int64)
        core.walk(*args, state, records, every, equity)
    fills = _start_fill(candles, b0, p0, config.taker_fee)
    if record_fills:
        fills += decode_fills(plan, candles, records[:count], b0)
    return summarize(plan, candles, state, fills, equity)


def _start_fill(candles: Candles, b0: float, p0: float, taker_fee: float) -> list[Fill]:
    if b0 <= 0:
        return []
    return [
        Fill(
            ts=int(candles.ts[0]), side=Side.BUY, line=-1, price=p0, qty=b0, fee=b0 * p0 * taker_fee
        )
    ]


def decode_fills(plan: GridPlan, candles: Candles, records: np.ndarray, b0: float) -> list[Fill]:
    """Recorded (candle, segment, line, side) rows as fills with prices, sizes and fees."""
    config = plan.config
    fills: list[Fill] = []
    base = b0
    for candle, segment, line, side in records.tolist():
        ts = segment_end_ms(int(candles.ts[candle]), candles.timeframe_ms, segment)
        if line < 0:  # take-profit close: a taker sell of all the base at the close
            price, qty, fee_rate = float(candles.close[candle]), base, config.taker_fee
        else:
            price = float(plan.prices[line])
            qty = float(plan.qtys[line] if side > 0 else plan.qtys[line - 1])
            fee_rate = config.maker_fee
        base += qty if side > 0 else -qty
        fills.append(
            Fill(
                ts=ts,
                side=Side.BUY if side > 0 else Side.SELL,
                line=line,
                price=price,
                qty=qty,
                fee=price * qty * fee_rate,
            )
        )
    return fills
