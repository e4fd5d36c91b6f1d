"""Hypothesis strategies for candle series and grids."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.factories import make_candles
from tradebot.candles.model import Candles
from tradebot.engine.types import GridConfig, Spacing


@st.composite
def candle_series(draw: st.DrawFn, min_size: int = 1, max_size: int = 60) -> Candles:
    """A random walk around 100 with gaps between candles and wicks both ways."""
    n = draw(st.integers(min_size, max_size))
    price = draw(st.floats(60, 140))
    rows = []
    for _ in range(n):
        o = price * draw(st.floats(0.97, 1.03))  # the jump from the previous close
        c = o * draw(st.floats(0.9, 1.1))
        h = max(o, c) * draw(st.floats(1.0, 1.08))
        lo = min(o, c) * draw(st.floats(0.92, 1.0))
        rows.append((o, h, lo, c))
        price = c
    return make_candles(rows)


@st.composite
def grids(draw: st.DrawFn) -> GridConfig:
    lower = draw(st.floats(50, 110))
    upper = lower * draw(st.floats(1.1, 2.5))
    return GridConfig(
        lower=lower,
        upper=upper,
        lines=draw(st.integers(2, 25)),
        investment=draw(st.floats(100, 10_000)),
        spacing=draw(st.sampled_from(list(Spacing))),
        maker_fee=draw(st.sampled_from([0.0, 0.0005, 0.001])),
        taker_fee=draw(st.sampled_from([0.0, 0.001, 0.002])),
    )
