"""The run loop's persistence port and the records that cross it.

Every method is one transaction: a crash between two calls leaves the database at a state the
run can restart from (orders are written as SUBMITTING before their request leaves).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tradebot.engine.orders import OrderStatus
from tradebot.engine.types import Side


@dataclass(slots=True)
class StoredOrder:
    client_order_id: str
    line: int
    seq: int
    side: Side
    kind: str
    """'limit' or 'market'."""
    price: float
    qty: float
    status: OrderStatus
    created_ts: int
    filled_qty: float = 0.0
    exchange_order_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    client_order_id: str
    status: OrderStatus
    ts: int
    filled_qty: float | None = None
    exchange_order_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class FillRecord:
    trade_id: str
    client_order_id: str
    side: Side
    line: int
    price: float
    qty: float
    fee: float
    fee_currency: str
    ts: int


@dataclass(frozen=True, slots=True)
class InventorySnapshot:
    ts: int
    price: float
    base: float
    quote: float
    equity: float
    grid_profit: float
    fees: float
    round_trips: int
    empty_line: int


@dataclass(slots=True)
class RunRecord:
    run_id: str
    client_id: str
    mode: str
    exchange: str
    pair: str
    base_ts: int
    config: dict[str, Any] = field(default_factory=dict)
    state: list[float] = field(default_factory=list)
    clock_ts: int = 0
    status: str = "created"
    stop_reason: str | None = None
    owner: str = ""


@dataclass(frozen=True, slots=True)
class GuardRecord:
    guard: str
    reason: str
    run_id: str | None
    tripped_ts: int


class OrderStore(Protocol):
    """The orders of one run: what the order manager reads and writes."""

    async def orders(self, statuses: frozenset[OrderStatus] | None = None) -> list[StoredOrder]: ...

    async def next_seqs(self) -> dict[int, int]:
        """For each line, the next unused order sequence number (client order ids)."""
        ...

    async def add_orders(self, orders: list[StoredOrder]) -> None: ...

    async def update_orders(self, updates: list[OrderUpdate]) -> None: ...


class OrderJournal(OrderStore, Protocol):
    """What the order manager writes through: the store, and the venue's answers that may be
    written after the call returns (``runtime.journal``)."""

    async def acknowledged(self, updates: list[OrderUpdate]) -> None:
        """The venue's answers to orders just sent. Safe to lose (a restart asks the venue
        about an order stored SUBMITTING), so they may be written after this returns, as long
        as before the next write."""
        ...


class RunStore(OrderStore, Protocol):
    """Persistence of one run, scoped to its client."""

    async def load_run(self) -> RunRecord | None: ...

    async def create_run(self, record: RunRecord) -> None: ...

    async def set_status(self, status: str, reason: str | None = None) -> None: ...

    async def save_config(self, config: dict[str, Any]) -> None:
        """The run's grid changed (re-centred): a restart must trade the new one."""
        ...

    async def record_fills(
        self,
        fills: list[FillRecord],
        updates: list[OrderUpdate],
        state: list[float],
        clock_ts: int,
        orders: Sequence[StoredOrder] = (),
    ) -> list[FillRecord]:
        """Store fills (a trade id already stored is skipped), the order updates that go with
        them, the engine state after them and ``orders`` (new, written ahead of their
        requests), atomically; returns the fills that were new."""
        ...

    async def save_state(self, state: list[float], clock_ts: int) -> None: ...

    async def fills(self) -> list[FillRecord]: ...

    async def add_snapshot(self, snapshot: InventorySnapshot) -> None: ...

    async def trip(
        self, guard: str, reason: str, ts: int, *, client_wide: bool = False
    ) -> None: ...

    async def active_trip(self) -> GuardRecord | None:
        """A tripped guard of this run, or the client's kill switch, not yet reset."""
        ...

    async def client_drawdown_usd(self) -> float:
        """Sum of (peak - equity) over the client's running runs, from their stored states."""
        ...
