"""Bodies of backtest jobs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Row = Annotated[
    list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=5, max_length=6)
]


class BacktestCreate(BaseModel):
    """A bot's grid over the bundled demo week, or over candles sent with the request."""

    model_config = ConfigDict(extra="forbid")

    bot_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,32}$")]
    days: Annotated[float, Field(gt=0, le=366, allow_inf_nan=False)] = 7.0
    """Only the first N days of the candles."""
    candles: Annotated[list[Row], Field(min_length=2, max_length=20_000)] | None = None
    """Rows of ``[timestamp_ms, open, high, low, close(, volume)]``; unset: the bundled week."""


CHART_POINTS = 500
"""At most this many points of a backtest's equity curve, and this many of its fills, in a view."""


class BacktestEquityPoint(BaseModel):
    """The grid's equity and buying-and-holding's value at a candle's close."""

    ts: int
    equity: float
    buy_and_hold: float


class BacktestFill(BaseModel):
    """One fill of the backtest (``line`` -1: a market order, the start buy or a close)."""

    ts: int
    side: Literal["buy", "sell"]
    line: int
    price: float
    qty: float
    fee: float


class BacktestView(BaseModel):
    id: str
    bot_id: str
    status: str
    progress: float
    candles: str
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    result: dict[str, Any] | None = None
    """The spec's results and the report figures (no fill list: see the export)."""
    equity_curve: list[BacktestEquityPoint] | None = None
    """Once done: at most ``CHART_POINTS`` closes, the first and last and each stretch's lowest
    and highest equity between them, with buy & hold (the investment's worth of the coin bought
    at the first open) at the same closes."""
    fills: list[BacktestFill] | None = None
    """Once done: the newest ``CHART_POINTS`` fills, oldest first (``fills_total`` counts them
    all; the export has every one)."""
    fills_total: int | None = None


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
