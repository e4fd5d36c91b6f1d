"""The engine's compiled kernels, made ready before a process trades.

numba compiles a kernel at its first call (a second or more on a fresh machine) or loads it
from its disk cache (tens of milliseconds), holding the event loop either way. A worker's first
sell fill came minutes into its thousand runs' trading and held them all for it: in the live
bench at the market's own speed, 2.5 s in a fresh checkout and 124 ms with the cache on disk,
the whole tail of the event-to-decision latency. So a process that trades first walks a small
grid through every kernel a run calls, by the same strategy methods (with the same argument
types: a kernel called with other types would be compiled again).
"""

from __future__ import annotations

from tradebot.engine.plan import build_plan
from tradebot.engine.strategy import GridStrategy
from tradebot.engine.types import GridConfig, Side

_PRICE = 100.0
_FEE = 0.001


def warm_engine() -> None:
    """Call every kernel a live or paper run calls, once, on a throwaway grid."""
    plan = build_plan(GridConfig(lower=90.0, upper=110.0, lines=5, investment=1_000.0))
    strategy = GridStrategy(plan)
    start = strategy.begin(_PRICE)
    strategy.on_market_fill(Side.BUY, _PRICE, start, start * _PRICE * _FEE)
    below = strategy.empty_line - 1
    buy_price, qty = float(plan.prices[below]), float(plan.qtys[below])
    strategy.on_fill(Side.BUY, below, buy_price, qty, buy_price * qty * _FEE)
    sell_price = float(plan.prices[below + 1])
    strategy.on_fill(Side.SELL, below + 1, sell_price, qty, sell_price * qty * _FEE)
    strategy.mark(_PRICE)
    strategy.recentre(plan, _PRICE)
    held = float(strategy.snapshot().base)
    strategy.on_market_fill(Side.SELL, _PRICE, held, held * _PRICE * _FEE)
