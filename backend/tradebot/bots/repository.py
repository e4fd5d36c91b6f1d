"""SQL of one client's bots and of its runs' tables, always within the client's scope.

The run tables (``bot_runs``, ``bot_orders``...) belong to the runs package; these are the
API's read paths over them (and the few writes the API makes: a new run, a stop, a guard).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from tradebot.bots.models import Bot, RunRequest
from tradebot.engine.orders import ACTIVE
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


class RunsRepository(TenantRepository[BotRun]):
    model = BotRun
    noun = "run"

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

    async def count(self, run_id: str) -> int:
        model = self.model
        query = (
            select(func.count()).select_from(model).where(self._in_scope(), model.run_id == run_id)  # type: ignore[attr-defined]
        )
        return int(await self.session.scalar(query) or 0)


class OrderRepository(_RunRows[BotOrder]):
    model = BotOrder
    noun = "order"

    async def open_count(self, run_id: str) -> int:
        query = (
            select(func.count())
            .select_from(BotOrder)
            .where(
                self._in_scope(),
                BotOrder.run_id == run_id,  # type: ignore[arg-type]
                BotOrder.status.in_([s.value for s in ACTIVE]),  # type: ignore[attr-defined]
            )
        )
        return int(await self.session.scalar(query) or 0)


class FillRepository(_RunRows[BotFill]):
    model = BotFill
    noun = "fill"


class SnapshotRepository(_RunRows[BotInventorySnapshot]):
    model = BotInventorySnapshot
    noun = "snapshot"

    async def latest(self, run_id: str) -> BotInventorySnapshot | None:
        query = (
            select(BotInventorySnapshot)
            .where(self._in_scope(), BotInventorySnapshot.run_id == run_id)  # type: ignore[arg-type]
            .order_by(BotInventorySnapshot.ts.desc())  # type: ignore[attr-defined]
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()


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
