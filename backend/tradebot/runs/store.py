"""SQL for one run, always filtered by the run's client: the ``RunStore`` of the run loop.

Every transaction is a tenant transaction: on PostgreSQL it runs as the application role with
the client set, so row-level security backs up the ``client_id`` filters written here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col, select

from tradebot.engine import core
from tradebot.engine.orders import OrderStatus
from tradebot.engine.types import Side
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
from tradebot.runtime.store import (
    FillRecord,
    GuardRecord,
    InventorySnapshot,
    OrderUpdate,
    RunRecord,
    StoredOrder,
)


def _order_row(client_id: str, run_id: str, o: StoredOrder) -> BotOrder:
    return BotOrder(
        client_id=client_id,
        run_id=run_id,
        client_order_id=o.client_order_id,
        exchange_order_id=o.exchange_order_id,
        line=o.line,
        seq=o.seq,
        side=o.side.value,
        kind=o.kind,
        price=o.price,
        qty=o.qty,
        filled_qty=o.filled_qty,
        status=o.status.value,
        reason=o.reason,
        created_ts=o.created_ts,
        updated_ts=o.created_ts,
    )


def _stored(row: BotOrder) -> StoredOrder:
    return StoredOrder(
        client_order_id=row.client_order_id,
        line=row.line,
        seq=row.seq,
        side=Side(row.side),
        kind=row.kind,
        price=row.price,
        qty=row.qty,
        status=OrderStatus(row.status),
        created_ts=row.created_ts,
        filled_qty=row.filled_qty,
        exchange_order_id=row.exchange_order_id,
        reason=row.reason,
    )


def _record(row: BotRun) -> RunRecord:
    return RunRecord(
        run_id=row.id,
        client_id=row.client_id,
        mode=row.mode,
        exchange=row.exchange,
        pair=row.pair,
        base_ts=row.base_ts,
        config=dict(row.config),
        state=list(row.state),
        clock_ts=row.clock_ts,
        status=row.status,
        stop_reason=row.stop_reason,
        owner=row.owner,
    )


def _fill(row: BotFill) -> FillRecord:
    return FillRecord(
        row.trade_id,
        row.client_order_id,
        Side(row.side),
        row.line,
        row.price,
        row.qty,
        row.fee,
        row.fee_currency,
        row.ts,
    )


class SqlRunStore:
    """Implements ``runtime.store.RunStore`` for (client, run)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], client_id: str, run_id: str):
        self._sessions = sessions
        self._scope = ClientScope.of(client_id)
        self.client_id = client_id
        self.run_id = run_id

    # ---- the run ------------------------------------------------------------------------
    async def _run_row(self, session: AsyncSession) -> BotRun | None:
        result = await session.execute(
            select(BotRun).where(
                col(BotRun.client_id) == self.client_id, col(BotRun.id) == self.run_id
            )
        )
        return result.scalar_one_or_none()

    async def load_run(self) -> RunRecord | None:
        async with client_transaction(self._sessions, self._scope) as session:
            row = await self._run_row(session)
            return None if row is None else _record(row)

    async def create_run(self, record: RunRecord) -> None:
        async with client_transaction(self._sessions, self._scope) as session:
            session.add(
                BotRun(
                    id=record.run_id,
                    client_id=self.client_id,
                    mode=record.mode,
                    exchange=record.exchange,
                    pair=record.pair,
                    status=record.status,
                    config=record.config,
                    state=record.state,
                    base_ts=record.base_ts,
                    clock_ts=record.clock_ts,
                    owner=record.owner,
                )
            )

    async def _update_run(self, session: AsyncSession, **values: Any) -> None:
        await session.execute(
            update(BotRun)
            .where(col(BotRun.client_id) == self.client_id, col(BotRun.id) == self.run_id)
            .values(updated_at=utcnow(), **values)
        )

    async def set_status(self, status: str, reason: str | None = None) -> None:
        async with client_transaction(self._sessions, self._scope) as session:
            await self._update_run(session, status=status, stop_reason=reason)

    async def save_config(self, config: dict[str, Any]) -> None:
        async with client_transaction(self._sessions, self._scope) as session:
            await self._update_run(session, config=config)

    async def save_state(self, state: list[float], clock_ts: int) -> None:
        async with client_transaction(self._sessions, self._scope) as session:
            await self._update_run(session, state=state, clock_ts=clock_ts)

    # ---- orders -------------------------------------------------------------------------
    async def orders(self, statuses: frozenset[OrderStatus] | None = None) -> list[StoredOrder]:
        query = select(BotOrder).where(
            col(BotOrder.client_id) == self.client_id, col(BotOrder.run_id) == self.run_id
        )
        if statuses is not None:
            query = query.where(col(BotOrder.status).in_([s.value for s in statuses]))
        async with client_transaction(self._sessions, self._scope) as session:
            rows = (await session.execute(query.order_by(col(BotOrder.id)))).scalars().all()
            return [_stored(r) for r in rows]

    async def next_seqs(self) -> dict[int, int]:
        query = (
            select(col(BotOrder.line), func.max(col(BotOrder.seq)))
            .where(col(BotOrder.client_id) == self.client_id, col(BotOrder.run_id) == self.run_id)
            .group_by(col(BotOrder.line))
        )
        async with client_transaction(self._sessions, self._scope) as session:
            return {line: seq + 1 for line, seq in (await session.execute(query)).all()}

    async def add_orders(self, orders: list[StoredOrder]) -> None:
        async with client_transaction(self._sessions, self._scope) as session:
            session.add_all([_order_row(self.client_id, self.run_id, o) for o in orders])

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
        async with client_transaction(self._sessions, self._scope) as session:
            await self._apply_updates(session, updates)

    # ---- fills and state ----------------------------------------------------------------
    async def record_fills(
        self, fills: list[FillRecord], updates: list[OrderUpdate], state: list[float], clock_ts: int
    ) -> list[FillRecord]:
        async with client_transaction(self._sessions, self._scope) as session:
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
            session.add_all(
                [
                    BotFill(
                        client_id=self.client_id,
                        run_id=self.run_id,
                        client_order_id=f.client_order_id,
                        trade_id=f.trade_id,
                        ts=f.ts,
                        side=f.side.value,
                        line=f.line,
                        price=f.price,
                        qty=f.qty,
                        fee=f.fee,
                        fee_currency=f.fee_currency,
                    )
                    for f in new
                ]
            )
            await self._apply_updates(session, updates)
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
        async with client_transaction(self._sessions, self._scope) as session:
            return [_fill(r) for r in (await session.execute(query)).scalars().all()]

    async def add_snapshot(self, s: InventorySnapshot) -> None:
        async with client_transaction(self._sessions, self._scope) as session:
            session.add(
                BotInventorySnapshot(
                    client_id=self.client_id,
                    run_id=self.run_id,
                    ts=s.ts,
                    price=s.price,
                    base=s.base,
                    quote=s.quote,
                    equity=s.equity,
                    grid_profit=s.grid_profit,
                    fees=s.fees,
                    round_trips=s.round_trips,
                    empty_line=s.empty_line,
                )
            )

    # ---- guards -------------------------------------------------------------------------
    async def trip(self, guard: str, reason: str, ts: int, *, client_wide: bool = False) -> None:
        async with client_transaction(self._sessions, self._scope) as session:
            session.add(
                BotGuardState(
                    client_id=self.client_id,
                    run_id=None if client_wide else self.run_id,
                    guard=guard,
                    reason=reason,
                    active=True,
                    tripped_ts=ts,
                )
            )
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
        async with client_transaction(self._sessions, self._scope) as session:
            row = (await session.execute(query)).scalars().first()
            if row is None:
                return None
            return GuardRecord(row.guard, row.reason, row.run_id, row.tripped_ts)

    async def client_drawdown_usd(self) -> float:
        query = select(col(BotRun.state)).where(
            col(BotRun.client_id) == self.client_id, col(BotRun.status) == RunStatus.RUNNING.value
        )
        async with client_transaction(self._sessions, self._scope) as session:
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
    async with client_transaction(sessions, ClientScope.of(client_id)) as session:
        session.add(
            BotGuardState(
                client_id=client_id,
                run_id=None,
                guard=guard,
                reason=reason,
                active=True,
                tripped_ts=ts,
            )
        )


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
    return [_record(row) for row in rows]
