"""One backtest job per row: its request, progress and (when done) its result."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from tradebot.kit.clock import utcnow


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BacktestJob(SQLModel, table=True):
    __tablename__ = "backtest_jobs"

    id: str = Field(primary_key=True, max_length=32)
    client_id: str = Field(foreign_key="clients.id", index=True, max_length=64)
    bot_id: str = Field(foreign_key="bots.id", max_length=32)
    status: str = Field(default=JobStatus.QUEUED.value, max_length=16)
    progress: float = 0.0
    request: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """What was asked: the candle source and window (uploaded candles are kept in ``candles``)."""
    candles: list[list[float]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    fills_csv: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
