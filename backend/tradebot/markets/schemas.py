"""Response bodies of market data."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Timeframe = Literal["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "1w"]
"""Candle lengths the charts may ask for (each one the exchange must list too)."""


class Candle(BaseModel):
    time: int
    """Open time, unix seconds (UTC): what charting libraries take."""
    open: float
    high: float
    low: float
    close: float
    volume: float


class CandleSeries(BaseModel):
    exchange: str
    pair: str
    timeframe: str
    candles: list[Candle]
    """Closed candles, oldest first; the one still forming is not a candle yet."""
