"""Tables of a run. Every trading row carries ``client_id``: the tenant scope of the SaaS.

Times that belong to the market (order and fill times, snapshots) are integer ms from the
run's clock, so a paper replay stores the same values every time; ``created_at`` columns are
wall-clock and only for audit.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from tradebot.engine.orders import OrderStatus
from tradebot.kit.clock import utcnow


class RunMode(StrEnum):
    PAPER = "paper"
    LIVE = "live"


class RunStatus(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    STOPPED = "stopped"
    TRIPPED = "tripped"
    FINISHED = "finished"
    FAILED = "failed"


class BotRun(SQLModel, table=True):
    __tablename__ = "bot_runs"
    __table_args__ = (Index("ix_bot_runs_status_updated", "status", "updated_at"),)

    id: str = Field(primary_key=True, max_length=128)
    client_id: str = Field(foreign_key="clients.id", index=True, max_length=64)
    mode: str = Field(max_length=16)
    exchange: str = Field(max_length=32)
    pair: str = Field(max_length=32)
    status: str = Field(default=RunStatus.CREATED.value, max_length=16, index=True)
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """The engine's state vector at the last commit (derivable from fills; kept for display)."""
    base_ts: int = Field(sa_column=Column(BigInteger, nullable=False))
    clock_ts: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    """The run clock's time at the last commit: where a restarted replay resumes."""
    fill_count: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )
    """How many fills the run recorded: kept with them (``record_fills``), read by the status."""
    stop_reason: str | None = Field(default=None, max_length=500)
    owner: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class BotOrder(SQLModel, table=True):
    __tablename__ = "bot_orders"
    __table_args__ = (
        UniqueConstraint("client_order_id", name="uq_bot_orders_client_order_id"),
        Index("ix_bot_orders_run_status", "run_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(foreign_key="clients.id", index=True, max_length=64)
    run_id: str = Field(foreign_key="bot_runs.id", max_length=128)
    client_order_id: str = Field(max_length=64)
    exchange_order_id: str | None = Field(default=None, max_length=64)
    line: int
    seq: int
    side: str = Field(max_length=4)
    kind: str = Field(default="limit", max_length=8)
    price: float
    qty: float
    filled_qty: float = 0.0
    status: str = Field(default=OrderStatus.SUBMITTING.value, max_length=20)
    reason: str | None = Field(default=None, max_length=500)
    created_ts: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_ts: int = Field(sa_column=Column(BigInteger, nullable=False))


class BotFill(SQLModel, table=True):
    __tablename__ = "bot_fills"
    __table_args__ = (
        UniqueConstraint("run_id", "trade_id", name="uq_bot_fills_run_trade"),
        Index("ix_bot_fills_run_ts", "run_id", "ts"),
        Index("ix_bot_fills_run_id", "run_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(foreign_key="clients.id", index=True, max_length=64)
    run_id: str = Field(foreign_key="bot_runs.id", max_length=128)
    order_id: int | None = Field(default=None, foreign_key="bot_orders.id")
    client_order_id: str = Field(max_length=64)
    trade_id: str = Field(max_length=64)
    """The exchange's trade id: recording the same trade twice is refused by the constraint."""
    ts: int = Field(sa_column=Column(BigInteger, nullable=False))
    side: str = Field(max_length=4)
    line: int
    price: float
    qty: float
    fee: float
    fee_currency: str = Field(default="", max_length=16)


class BotInventorySnapshot(SQLModel, table=True):
    __tablename__ = "bot_inventory_snapshots"
    __table_args__ = (Index("ix_bot_inventory_run_ts", "run_id", "ts"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(foreign_key="clients.id", index=True, max_length=64)
    run_id: str = Field(foreign_key="bot_runs.id", max_length=128)
    ts: int = Field(sa_column=Column(BigInteger, nullable=False))
    price: float
    base: float
    quote: float
    equity: float
    grid_profit: float
    fees: float
    round_trips: int
    empty_line: int


class BotGuardState(SQLModel, table=True):
    """A tripped guard. ``run_id`` empty means the client's kill switch (all of its runs)."""

    __tablename__ = "bot_guard_state"
    __table_args__ = (
        Index("ix_bot_guard_client_active", "client_id", "active"),
        Index("ix_bot_guard_tripped_at", "tripped_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(foreign_key="clients.id", max_length=64)
    run_id: str | None = Field(default=None, foreign_key="bot_runs.id", max_length=128)
    guard: str = Field(max_length=40)
    reason: str = Field(max_length=500)
    active: bool = True
    tripped_ts: int = Field(sa_column=Column(BigInteger, nullable=False))
    tripped_at: datetime = Field(default_factory=utcnow)
    reset_at: datetime | None = None
    reset_by: str | None = Field(default=None, max_length=200)


class RunAction(StrEnum):
    START = "start"
    STOP = "stop"
    GRID = "grid"
    """Trade another grid from the run's next tick on (``details``: the new grid)."""


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
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """What the action needs beyond the run (a grid edit's new grid); none for start and stop."""
    created_at: datetime = Field(default_factory=utcnow)
    handled_at: datetime | None = None
