"""Regime analysis on real and constructed series."""

from __future__ import annotations

import numpy as np
import pytest

from tradebot.candles.io import bundled, load_candles
from tradebot.engine.regime import Regime, analyse


def test_a_steady_climb_is_trending_up():
    closes = 100 * np.exp(np.linspace(0, 0.05, 500)) * (1 + 0.0005 * np.sin(np.arange(500)))
    result = analyse(closes, 60_000)
    assert result.regime is Regime.TRENDING_UP
    assert result.trend_pct_per_day > 0


def test_noise_around_a_level_is_ranging():
    rng = np.random.default_rng(7)
    closes = 100 * np.exp(0.002 * np.sin(np.arange(2000) / 30) + rng.normal(0, 0.0005, 2000))
    result = analyse(closes, 60_000)
    assert result.regime is Regime.RANGING
    assert result.suggested_lower < result.last_close < result.suggested_upper


def test_real_btc_day_gives_a_sane_reading():
    candles = load_candles(bundled()).first_days(1)
    result = analyse(candles.close, candles.timeframe_ms)
    assert 0.5 < result.daily_volatility_pct < 10
    assert result.suggested_lower < float(candles.close[-1]) < result.suggested_upper


def test_too_few_closes_is_refused():
    with pytest.raises(ValueError, match="at least 3"):
        analyse(np.array([1.0, 2.0]), 60_000)
