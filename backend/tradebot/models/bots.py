"""Tables of the bots domain: saved grid configurations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from tradebot.kit.clock import utcnow


class Bot(SQLModel, table=True):
    """A saved grid: pair, exchange and the ``GridConfig`` fields (``config``)."""

    __tablename__ = "bots"

    id: str = Field(primary_key=True, max_length=32)
    client_id: str = Field(foreign_key="clients.id", index=True, max_length=64)
    name: str = Field(max_length=100)
    exchange: str = Field(max_length=32)
    pair: str = Field(max_length=32)
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
