"""What the track record routes take and answer. The public view holds no client identity,
no bot name, no balance and no amount: ratios and counts only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class TrackRecordPublish(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bot_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,32}$")]


class TrackRecordView(BaseModel):
    """One of the client's published records (what the portal lists and links to)."""

    slug: str
    bot_id: str
    path: str
    created_at: datetime


class PublicTrackRecord(BaseModel):
    """The public, anonymised figures of one bot."""

    pair: str
    exchange: str
    mode: str
    """``live`` once the bot traded live, else ``paper``."""
    return_pct: float
    max_drawdown_pct: float
    days_live: int
    fills: int
    since: date | None
