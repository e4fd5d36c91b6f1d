"""Bodies of backtest jobs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

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


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
