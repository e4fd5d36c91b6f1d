"""SQL for one run, always filtered by the run's client: the ``RunStore`` of the run loop.

Every transaction is a tenant transaction: on PostgreSQL it runs as the application role with
the client set, so row-level security backs up the ``client_id`` filters written here.

Records and rows share their field names, so one mapping serves every table both ways
(``_columns_of`` and ``_record_of``): a field added to a record and its table needs no mapper.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, Final, TypeVar, get_type_hints

from sqlalchemy import Float, String, bindparam, func, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import SQLModel, col, select

from tradebot.engine import core
from tradebot.engine.orders import OrderStatus
from tradebot.kit.clock import utcnow
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.kit.writes import Writes, tenant_writes
from tradebot.models.runs import (
    BotFill,
    BotGuardState,
    BotInventorySnapshot,
    BotOrder,
    BotRun,
    RunStatus,
)
from tradebot.runs.repository import GuardRepository
from tradebot.runs.run_transactions import RunTransactions
from tradebot.runtime.store import (
    FillRecord,
    GuardRecord,
    InventorySnapshot,
    OrderUpdate,
    RunRecord,
    StoredOrder,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

RecordT = TypeVar("RecordT", bound="DataclassInstance")

_RENAMED: dict[type[Any], dict[str, str]] = {RunRecord: {"run_id": "id"}}
"""Record fields stored under another column: a run's own id is its row's primary key."""


@cache
def _field_types(record_type: type[DataclassInstance]) -> dict[str, Any]:
    return get_type_hints(record_type)


def _stored_value(value: Any) -> Any:
    """Enums by value; JSON copied, so a row never shares a list or dict with a record."""
    if isinstance(value, Enum):
        return value.value
    return copy.deepcopy(value) if isinstance(value, dict | list) else value


def _columns_of(record: DataclassInstance) -> dict[str, Any]:
    """The row's column values of ``record``, by field name."""
    renamed = _RENAMED.get(type(record), {})
    return {
        renamed.get(f.name, f.name): _stored_value(getattr(record, f.name))
        for f in dataclasses.fields(record)
    }


def _record_of(record_type: type[RecordT], row: SQLModel) -> RecordT:
    """The record ``row`` stores: each field read from its column, enums rebuilt from values."""
    renamed = _RENAMED.get(record_type, {})
    types = _field_types(record_type)
    values = {}
    for f in dataclasses.fields(record_type):
        value = _stored_value(getattr(row, renamed.get(f.name, f.name)))
        kind = types[f.name]
        values[f.name] = kind(value) if isinstance(kind, type) and issubclass(kind, Enum) else value
    return record_type(**values)


_ORDERS = SQLModel.metadata.tables[BotOrder.__tablename__]
_FILLS = SQLModel.metadata.tables[BotFill.__tablename__]
_RUNS = SQLModel.metadata.tables[BotRun.__tablename__]
_ORDERS_INSERT: Final = insert(_ORDERS)
_ORDER_UPDATE: Final = (
    update(_ORDERS)
    .where(
        _ORDERS.c.client_id == bindparam("c"),
        _ORDERS.c.run_id == bindparam("r"),
        _ORDERS.c.client_order_id == bindparam("coid"),
    )
    .values(
        status=bindparam("status"),
        updated_ts=bindparam("ts"),
        # An update that does not say leaves the column as it was.
        filled_qty=func.coalesce(bindparam("filled_qty", type_=Float), _ORDERS.c.filled_qty),
        exchange_order_id=func.coalesce(
            bindparam("exchange_order_id", type_=String), _ORDERS.c.exchange_order_id
        ),
        reason=func.coalesce(bindparam("reason", type_=String), _ORDERS.c.reason),
    )
)
_NEW_FILLS: Final = {
    # A fill already stored (a restart books its trades again) is skipped by its unique key,
    # in the insert's own round trip; the insert says which it stored.
    name: dialect.insert(_FILLS)
    .on_conflict_do_nothing(index_elements=[_FILLS.c.run_id, _FILLS.c.trade_id])
    .returning(_FILLS.c.trade_id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_RUN_RECORDED: Final = (
    update(_RUNS)
    .where(_RUNS.c.client_id == bindparam("c"), _RUNS.c.id == bindparam("r"))
    .values(
        state=bindparam("state", type_=_RUNS.c.state.type),
        clock_ts=bindparam("clock"),
        updated_at=bindparam("now"),
        fill_count=_RUNS.c.fill_count + bindparam("added"),
    )
)


def _update_values(update: OrderUpdate) -> dict[str, Any]:
    return {
        "coid": update.client_order_id,
        "status": update.status.value,
        "ts": update.ts,
        "filled_qty": update.filled_qty,
        "exchange_order_id": update.exchange_order_id,
        "reason": update.reason,
    }


class SqlRunStore(RunTransactions):
    """Implements ``runtime.store.RunStore`` for (client, run)."""

    def _owned(self, record: DataclassInstance) -> dict[str, Any]:
        """A row's values for a record of this run: the record's fields, this run's keys."""
        return {**_columns_of(record), "client_id": self.client_id, "run_id": self.run_id}

    # ---- the run ------------------------------------------------------------------------
    async def _run_row(self, session: AsyncSession) -> BotRun | None:
        result = await session.execute(
            select(BotRun).where(
                col(BotRun.client_id) == self.client_id, col(BotRun.id) == self.run_id
            )
        )
        return result.scalar_one_or_none()

    async def load_run(self) -> RunRecord | None:
        async with self.transaction() as session:
            row = await self._run_row(session)
            return None if row is None else _record_of(RunRecord, row)

    async def create_run(self, record: RunRecord) -> None:
        async with self.transaction() as session:
            session.add(BotRun(**{**_columns_of(record), "client_id": self.client_id}))

    async def _update_run(self, session: AsyncSession, **values: Any) -> None:
        await session.execute(
            update(BotRun)
            .where(col(BotRun.client_id) == self.client_id, col(BotRun.id) == self.run_id)
            .values(updated_at=utcnow(), **values)
        )

    async def set_status(self, status: str, reason: str | None = None) -> None:
        async with self.transaction() as session:
            await self._update_run(session, status=status, stop_reason=reason)

    async def save_config(self, config: dict[str, Any]) -> None:
        async with self.transaction() as session:
            await self._update_run(session, config=config)

    # ---- orders -------------------------------------------------------------------------
    async def orders(self, statuses: frozenset[OrderStatus] | None = None) -> list[StoredOrder]:
        query = select(BotOrder).where(
            col(BotOrder.client_id) == self.client_id, col(BotOrder.run_id) == self.run_id
        )
        if statuses is not None:
            query = query.where(col(BotOrder.status).in_([s.value for s in statuses]))
        async with self.transaction() as session:
            rows = (await session.execute(query.order_by(col(BotOrder.id)))).scalars().all()
            return [_record_of(StoredOrder, r) for r in rows]

    async def next_seqs(self) -> dict[int, int]:
        query = (
            select(col(BotOrder.line), func.max(col(BotOrder.seq)))
            .where(col(BotOrder.client_id) == self.client_id, col(BotOrder.run_id) == self.run_id)
            .group_by(col(BotOrder.line))
        )
        async with self.transaction() as session:
            return {line: seq + 1 for line, seq in (await session.execute(query)).all()}

    # The writes of every fill and order (a thousand runs' worth in a burst of fills) are
    # Core statements built once, run on the driver's connection (``kit.writes``): through the
    # ORM, a fill's two transactions cost 6 ms of CPU; through a session, 2 ms.
    def _writes(self) -> AbstractAsyncContextManager[Writes]:
        return tenant_writes(self.sessions, self.scope)

    def _order_rows(self, orders: Sequence[StoredOrder]) -> list[dict[str, Any]]:
        return [{**self._owned(o), "updated_ts": o.created_ts} for o in orders]

    def _update_rows(self, updates: Sequence[OrderUpdate]) -> list[dict[str, Any]]:
        keys = {"c": self.client_id, "r": self.run_id}
        return [{**keys, **_update_values(u)} for u in updates]

    async def add_orders(self, orders: list[StoredOrder]) -> None:
        if orders:
            async with self._writes() as writes:
                await writes.execute(_ORDERS_INSERT, self._order_rows(orders))

    async def update_orders(self, updates: list[OrderUpdate]) -> None:
        if updates:
            async with self._writes() as writes:
                await writes.execute(_ORDER_UPDATE, self._update_rows(updates))

    async def save_state(self, state: list[float], clock_ts: int) -> None:
        await self.record_fills([], [], state, clock_ts)

    # ---- fills and state ----------------------------------------------------------------
    async def record_fills(
        self,
        fills: list[FillRecord],
        updates: list[OrderUpdate],
        state: list[float],
        clock_ts: int,
        orders: Sequence[StoredOrder] = (),
    ) -> list[FillRecord]:
        async with self._writes() as writes:
            new = fills
            if fills:
                rows = [self._owned(f) for f in fills]
                stored = set(await writes.scalars(_NEW_FILLS[writes.dialect], rows))
                new = [f for f in fills if f.trade_id in stored]
            await writes.execute(_ORDER_UPDATE, self._update_rows(updates))
            await writes.execute(_ORDERS_INSERT, self._order_rows(orders))
            # The counter moves with the rows it counts (same transaction): the status reads it.
            values = {"c": self.client_id, "r": self.run_id, "state": state, "clock": clock_ts}
            await writes.execute(_RUN_RECORDED, [{**values, "now": utcnow(), "added": len(new)}])
            return new

    async def fills(self) -> list[FillRecord]:
        query = (
            select(BotFill)
            .where(col(BotFill.client_id) == self.client_id, col(BotFill.run_id) == self.run_id)
            .order_by(col(BotFill.id))
        )
        async with self.transaction() as session:
            return [_record_of(FillRecord, r) for r in (await session.execute(query)).scalars()]

    async def add_snapshot(self, s: InventorySnapshot) -> None:
        async with self.transaction() as session:
            session.add(BotInventorySnapshot(**self._owned(s)))

    # ---- guards -------------------------------------------------------------------------
    async def trip(self, guard: str, reason: str, ts: int, *, client_wide: bool = False) -> None:
        async with self.transaction() as session:
            run_id = None if client_wide else self.run_id
            await add_guard_row(session, self.scope, guard, reason, ts, run_id=run_id)
            await self._update_run(session, status=RunStatus.TRIPPED.value, stop_reason=reason)

    async def active_trip(self) -> GuardRecord | None:
        query = (
            select(BotGuardState)
            .where(
                col(BotGuardState.client_id) == self.client_id,
                col(BotGuardState.active).is_(True),
                (col(BotGuardState.run_id) == self.run_id) | col(BotGuardState.run_id).is_(None),
            )
            .order_by(col(BotGuardState.id))
        )
        async with self.transaction() as session:
            row = (await session.execute(query)).scalars().first()
            return None if row is None else _record_of(GuardRecord, row)

    async def client_drawdown_usd(self) -> float:
        query = select(col(BotRun.state)).where(
            col(BotRun.client_id) == self.client_id, col(BotRun.status) == RunStatus.RUNNING.value
        )
        async with self.transaction() as session:
            states = (await session.execute(query)).scalars().all()
        return float(
            sum(
                max(0.0, s[core.PEAK] - s[core.EQUITY]) for s in states if len(s) >= core.STATE_SIZE
            )
        )


async def trip_kill_switch(
    sessions: async_sessionmaker[AsyncSession], client_id: str, guard: str, reason: str, ts: int
) -> None:
    """Trip the client's kill switch: every run of the client stops and none starts until an
    operator resets it."""
    scope = ClientScope.of(client_id)
    async with client_transaction(sessions, scope) as session:
        await add_guard_row(session, scope, guard, reason, ts)


async def add_guard_row(
    session: AsyncSession,
    scope: ClientScope,
    guard: str,
    reason: str,
    ts: int,
    *,
    run_id: str | None = None,
) -> None:
    """The one writer of a tripped guard: of ``run_id``, or with none the client's kill switch
    (every run of the client stops and none starts until an operator resets it)."""
    row = BotGuardState(
        client_id=scope.client_id, run_id=run_id, guard=guard, reason=reason, tripped_ts=ts
    )
    await GuardRepository(session, scope).add(row)


async def client_runs(
    sessions: async_sessionmaker[AsyncSession], client_id: str
) -> list[RunRecord]:
    """Every run of one client, newest first (the client's scope, like everything here)."""
    query = (
        select(BotRun)
        .where(col(BotRun.client_id) == client_id)
        .order_by(col(BotRun.created_at).desc())
    )
    async with client_transaction(sessions, ClientScope.of(client_id)) as session:
        rows = (await session.execute(query)).scalars().all()
    return [_record_of(RunRecord, row) for row in rows]
