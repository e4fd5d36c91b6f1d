"""SQL of one client's bots and of its runs' tables, always within the client's scope.

The run tables (``bot_runs``, ``bot_orders``...) belong to the runs package; these are the
API's read paths over them (and the few writes the API makes: a new run, a stop, a guard).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.orm import aliased

from tradebot.bots.models import Bot, RunRequest
from tradebot.engine.orders import ACTIVE
from tradebot.errors import NotFoundError
from tradebot.kit.repository import RowT, TenantRepository
from tradebot.runs.models import (
    BotFill,
    BotGuardState,
    BotInventorySnapshot,
    BotOrder,
    BotRun,
)


class BotRepository(TenantRepository[Bot]):
    model = Bot
    noun = "bot"

    async def all(self) -> Sequence[Bot]:
        return await self.list(order_by=(Bot.created_at, Bot.id))


class RunStatusRow(NamedTuple):
    run: BotRun
    latest: BotInventorySnapshot | None
    open_orders: int
    fills: int


class RunsRepository(TenantRepository[BotRun]):
    model = BotRun
    noun = "run"

    async def status(self, run_id: str) -> RunStatusRow:
        """The run, its latest snapshot and its open order and fill counts in one statement.

        One round trip instead of four: the status is the most polled read of the API. Each
        part carries its own table's tenant filter, as the separate queries do.
        """
        latest = SnapshotRepository(self.session, self.scope).latest_query(run_id).subquery()
        snapshot = aliased(BotInventorySnapshot, latest)
        orders = OrderRepository(self.session, self.scope).open_count_query(run_id)
        fills = FillRepository(self.session, self.scope).count_query(run_id)
        query = (
            select(BotRun, snapshot, orders.scalar_subquery(), fills.scalar_subquery())
            .outerjoin(snapshot, true())
            .where(self._in_scope(), self._by_id(run_id))
        )
        row = (await self.session.execute(query)).one_or_none()
        if row is None:
            raise NotFoundError(f"{self.noun} {run_id!r} not found")
        run, snapshot_row, open_orders, fill_count = row
        return RunStatusRow(run, snapshot_row, int(open_orders or 0), int(fill_count or 0))

    async def recent(self, limit: int) -> Sequence[BotRun]:
        query = self._select().order_by(BotRun.created_at.desc()).limit(limit)  # type: ignore[attr-defined]
        return (await self.session.execute(query)).scalars().all()

    async def with_status(self, statuses: Sequence[str]) -> Sequence[BotRun]:
        return await self.list(BotRun.status.in_(statuses))  # type: ignore[attr-defined]


class RunRequestRepository(TenantRepository[RunRequest]):
    model = RunRequest
    noun = "run request"


class _RunRows(TenantRepository[RowT]):
    """Rows of one run, in id order, a page at a time."""

    async def page(self, run_id: str, limit: int, offset: int) -> Sequence[RowT]:
        model = self.model
        query = (
            self._select()
            .where(model.run_id == run_id)  # type: ignore[attr-defined]
            .order_by(model.id)  # type: ignore[attr-defined]
            .limit(limit)
            .offset(offset)
        )
        return (await self.session.execute(query)).scalars().all()

    def count_query(self, run_id: str, *where: ColumnElement[bool]) -> Select[int]:
        """How many of the run's rows (matching ``where``) there are."""
        model = self.model
        return (
            select(func.count())
            .select_from(model)
            .where(self._in_scope(), model.run_id == run_id, *where)  # type: ignore[attr-defined]
        )

    async def count(self, run_id: str) -> int:
        return int(await self.session.scalar(self.count_query(run_id)) or 0)


class OrderRepository(_RunRows[BotOrder]):
    model = BotOrder
    noun = "order"

    def open_count_query(self, run_id: str) -> Select[int]:
        """How many of the run's orders may still rest on the exchange."""
        return self.count_query(run_id, BotOrder.status.in_([s.value for s in ACTIVE]))  # type: ignore[attr-defined]

    async def open_count(self, run_id: str) -> int:
        return int(await self.session.scalar(self.open_count_query(run_id)) or 0)


class FillRepository(_RunRows[BotFill]):
    model = BotFill
    noun = "fill"


class SnapshotRepository(_RunRows[BotInventorySnapshot]):
    model = BotInventorySnapshot
    noun = "snapshot"

    def latest_query(self, run_id: str) -> Select[BotInventorySnapshot]:
        """The run's newest snapshot (none yet: no row)."""
        return (
            self._select()
            .where(BotInventorySnapshot.run_id == run_id)  # type: ignore[arg-type]
            .order_by(BotInventorySnapshot.ts.desc())  # type: ignore[attr-defined]
            .limit(1)
        )

    async def latest(self, run_id: str) -> BotInventorySnapshot | None:
        return (await self.session.execute(self.latest_query(run_id))).scalar_one_or_none()


class GuardRepository(TenantRepository[BotGuardState]):
    model = BotGuardState
    noun = "guard"

    async def for_run(self, run_id: str) -> Sequence[BotGuardState]:
        """The run's own guards and the client-wide ones (the kill switch)."""
        return await self.list(
            (BotGuardState.run_id == run_id) | (BotGuardState.run_id.is_(None)),  # type: ignore[union-attr]
            order_by=(BotGuardState.id,),
        )

    async def client_wide(self, *, active_only: bool) -> Sequence[BotGuardState]:
        where = [BotGuardState.run_id.is_(None)]  # type: ignore[union-attr]
        if active_only:
            where.append(BotGuardState.active.is_(True))  # type: ignore[attr-defined]
        return await self.list(*where, order_by=(BotGuardState.id,))
