"""The plan's minimum investment is the one the refusal names: at it the grid trades, under
it the grid is refused (never traded with levels dropped)."""

from __future__ import annotations

import math

import pytest

from tradebot.engine.errors import GridPlanError
from tradebot.engine.plan import build_plan
from tradebot.engine.types import GridConfig, MarketRules

BTC_USDT = MarketRules(tick_size=0.01, lot_step=0.00001, min_notional=5.0, min_qty=0.00001)


def _grid(investment: float) -> GridConfig:
    return GridConfig(lower=90_000.0, upper=100_000.0, lines=41, investment=investment)


def test_the_minimum_investment_trades_and_a_cent_less_per_order_is_refused_naming_it() -> None:
    roomy = build_plan(_grid(10_000.0), BTC_USDT)
    minimum = roomy.summary()["min_investment"]
    # 40 cells of at least 5 USDT each, plus a lot step's worth at the highest order's price.
    top_order = float(roomy.prices[-2])
    assert minimum == math.ceil(40 * (5.0 + 0.00001 * top_order) * 100) / 100
    plan = build_plan(_grid(minimum), BTC_USDT)
    orders = plan.prices[:-1] * plan.qtys[:-1]
    assert orders.min() >= BTC_USDT.min_notional
    with pytest.raises(GridPlanError, match=f"invest at least {minimum:g}"):
        build_plan(_grid(40 * 4.99), BTC_USDT)


def test_without_exchange_minimums_any_investment_is_enough() -> None:
    assert build_plan(_grid(100.0)).summary()["min_investment"] == 0.0
