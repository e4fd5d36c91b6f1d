"""Tables of the bots domain: saved grid configurations and the run requests the API records."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from tradebot.runs.models import utcnow


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


class RunAction(StrEnum):
    START = "start"
    STOP = "stop"


class RequestStatus(StrEnum):
    QUEUED = "queued"
    """Recorded, not yet taken by a worker."""
    TAKEN = "taken"
    DONE = "done"
    FAILED = "failed"


class RunRequest(SQLModel, table=True):
    """The intent of one job on a run, written in the transaction that asks for it.

    Commit, then enqueue: the API records the request here first, then hands it to the
    ``RunQueue``. A worker that takes the job marks the row; a sweeper re-enqueues rows still
    ``queued`` after a while (a lost enqueue), and the job's key (run id and action) makes a
    second delivery harmless.
    """

    __tablename__ = "run_requests"
    __table_args__ = (Index("ix_run_requests_status_created", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(foreign_key="clients.id", index=True, max_length=64)
    run_id: str = Field(foreign_key="bot_runs.id", max_length=128)
    action: str = Field(max_length=8)
    status: str = Field(default=RequestStatus.QUEUED.value, max_length=16)
    actor: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    handled_at: datetime | None = None
