"""Offline market rules for the pairs we ship data for (Binance spot filters, late 2024).

Paper replays and backtests use them so orders round and clear minimums as they would live;
a live run always loads the exchange's own markets instead.
"""

from __future__ import annotations

from tradebot.engine.types import MarketRules
from tradebot.errors import BadInputError

BINANCE_SPOT: dict[str, MarketRules] = {
    "BTC/USDT": MarketRules(tick_size=0.01, lot_step=0.00001, min_notional=5.0, min_qty=0.00001),
    "ETH/USDT": MarketRules(tick_size=0.01, lot_step=0.0001, min_notional=5.0, min_qty=0.0001),
    "SOL/USDT": MarketRules(tick_size=0.01, lot_step=0.001, min_notional=5.0, min_qty=0.001),
    "XRP/USDT": MarketRules(tick_size=0.0001, lot_step=0.1, min_notional=5.0, min_qty=0.1),
}


def offline_rules(pair: str) -> MarketRules:
    """The pair's rules, or one clear error naming the pairs known offline."""
    try:
        return BINANCE_SPOT[pair.upper()]
    except KeyError:
        known = ", ".join(BINANCE_SPOT)
        raise BadInputError(
            f"unknown pair {pair!r} (known offline: {known}; use --exact to trade without "
            "exchange rounding)"
        ) from None
