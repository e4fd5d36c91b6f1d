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
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, get_type_hints

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import SQLModel, col, select

from tradebot.engine import core
from tradebot.engine.orders import OrderStatus
from tradebot.kit.clock import utcnow
from tradebot.kit.scope import ClientScope, client_transaction
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

    async def save_state(self, state: list[float], clock_ts: int) -> None:
        async with self.transaction() as session:
            await self._update_run(session, state=state, clock_ts=clock_ts)

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

    def _add_orders(self, session: AsyncSession, orders: Sequence[StoredOrder]) -> None:
        session.add_all([BotOrder(**self._owned(o), updated_ts=o.created_ts) for o in orders])

    async def add_orders(self, orders: list[StoredOrder]) -> None:
        async with self.transaction() as session:
            self._add_orders(session, orders)

    async def _apply_updates(self, session: AsyncSession, updates: Sequence[OrderUpdate]) -> None:
        for u in updates:
            values: dict[str, Any] = {"status": u.status.value, "updated_ts": u.ts}
            if u.filled_qty is not None:
                values["filled_qty"] = u.filled_qty
            if u.exchange_order_id is not None:
                values["exchange_order_id"] = u.exchange_order_id
            if u.reason is not None:
                values["reason"] = u.reason
            await session.execute(
                update(BotOrder)
                .where(
                    col(BotOrder.client_id) == self.client_id,
                    col(BotOrder.run_id) == self.run_id,
                    col(BotOrder.client_order_id) == u.client_order_id,
                )
                .values(**values)
            )

    async def update_orders(self, updates: list[OrderUpdate]) -> None:
        async with self.transaction() as session:
            await self._apply_updates(session, updates)

    # ---- fills and state ----------------------------------------------------------------
    async def record_fills(
        self,
        fills: list[FillRecord],
        updates: list[OrderUpdate],
        state: list[float],
        clock_ts: int,
        orders: Sequence[StoredOrder] = (),
    ) -> list[FillRecord]:
        async with self.transaction() as session:
            known = set(
                (
                    await session.execute(
                        select(col(BotFill.trade_id)).where(
                            col(BotFill.client_id) == self.client_id,
                            col(BotFill.run_id) == self.run_id,
                            col(BotFill.trade_id).in_([f.trade_id for f in fills]),
                        )
                    )
                ).scalars()
            )
            new = [f for f in fills if f.trade_id not in known]
            session.add_all([BotFill(**self._owned(f)) for f in new])
            await self._apply_updates(session, updates)
            self._add_orders(session, orders)
            # The counter moves with the rows it counts (same transaction): the status reads it.
            fill_count = col(BotRun.fill_count) + len(new)
            await self._update_run(session, state=state, clock_ts=clock_ts, fill_count=fill_count)
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
