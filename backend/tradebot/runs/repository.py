"""The API's SQL over one client's run tables (``bot_runs``, ``bot_orders``...), always within
the client's scope, and the few writes the API makes (a new run, a stop, a run request).

The run loop writes the same tables through ``runs.store`` (the runtime's ``RunStore`` port).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnClause,
    FromClause,
    Select,
    String,
    bindparam,
    func,
    inspect,
    literal_column,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapper
from sqlmodel import SQLModel, col

from tradebot.engine.orders import ACTIVE
from tradebot.errors import NotFoundError
from tradebot.kit.repository import RowT, ScopedRepository
from tradebot.kit.scope import ClientScope
from tradebot.kit.scoped_reads import scoped_row
from tradebot.models.runs import (
    BotFill,
    BotGuardState,
    BotInventorySnapshot,
    BotOrder,
    BotRun,
    RunRequest,
)
from tradebot.observability.logs import bind_log_context
from tradebot.runs.schemas import SnapshotView

RUN_FIELDS = (
    "id", "config", "mode", "exchange", "pair", "status", "stop_reason", "created_at", "updated_at",
    "clock_ts",
)  # fmt: skip
SNAPSHOT_FIELDS = tuple(SnapshotView.model_fields)
"""The snapshot columns the API reads: the view's fields (one declaration of what it shows)."""


# Written into the statement (constants of ours): a list of bound values is expanded anew
# on every execution.
_ACTIVE_STATUSES: list[ColumnClause[str]] = [
    literal_column(f"'{status.value}'") for status in sorted(ACTIVE)
]


def _status_statement() -> Select[Any]:
    """The run status of ``:run_id`` as ``:client_id`` sees it: the API's most polled read.

    Built once, in SQLAlchemy Core over the tables: no ORM entities to build and no statement
    to rebuild and key for the cache per request. Each table carries its own tenant filter, as
    a ``ScopedRepository`` query would (row-level security backs them up on PostgreSQL). The
    fills come from the run's counter (``runs.repository`` keeps it with the fills): counting
    a long run's fills on every poll was most of the database time. Open orders are counted
    (at most a grid's lines rest at once, through ``ix_bot_orders_run_status``).
    """
    client, run_id = bindparam("client_id", type_=String), bindparam("run_id", type_=String)
    runs, snaps, orders = (_table(m) for m in (BotRun, BotInventorySnapshot, BotOrder))
    latest = (
        select(*(snaps.c[name] for name in SNAPSHOT_FIELDS))
        .where(snaps.c.client_id == client, snaps.c.run_id == run_id)
        .order_by(snaps.c.ts.desc())
        .limit(1)
        .subquery("latest")
    )
    open_orders = (
        select(func.count())
        .where(
            orders.c.client_id == client,
            orders.c.run_id == run_id,
            orders.c.status.in_(_ACTIVE_STATUSES),
        )
        .scalar_subquery()
    )
    started = (
        select(func.min(snaps.c.ts))
        .where(snaps.c.client_id == client, snaps.c.run_id == run_id)
        .scalar_subquery()
    )
    return (
        select(
            *(runs.c[name] for name in RUN_FIELDS),
            runs.c.fill_count.label("fills"),
            open_orders.label("open_orders"),
            started.label("started_ts"),
            *latest.c,
        )
        .select_from(runs.outerjoin(latest, true()))
        .where(runs.c.client_id == client, runs.c.id == run_id)
    )


def _table(model: type[SQLModel]) -> FromClause:
    mapper: Mapper[SQLModel] = inspect(model)
    return mapper.local_table


_STATUS = _status_statement()


async def run_status(
    sessions: async_sessionmaker[AsyncSession], scope: ClientScope, run_id: str
) -> Mapping[str, Any]:
    """The run's ``RUN_FIELDS``, ``fills``, ``open_orders``, ``started_ts`` (its first
    snapshot's time) and its newest snapshot's ``SNAPSHOT_FIELDS`` (all ``None`` before the
    first), in one statement of its own tenant
    transaction (``scoped_row``: the API's most polled read)."""
    values = {"client_id": scope.client_id, "run_id": run_id}
    row = await scoped_row(sessions, scope, _STATUS, values)
    if row is None:
        raise NotFoundError(f"run {run_id!r} not found")
    bind_log_context(pair=row["pair"])  # the request's later lines say which market
    return row


class RunRepository(ScopedRepository[BotRun]):
    model = BotRun
    noun = "run"

    async def get(self, row_id: object) -> BotRun:
        row = await super().get(row_id)
        bind_log_context(pair=row.pair)  # the request's later lines say which market
        return row

    async def recent(self, limit: int) -> Sequence[BotRun]:
        query = self._select().order_by(BotRun.created_at.desc()).limit(limit)  # type: ignore[attr-defined]
        return (await self.session.execute(query)).scalars().all()

    async def locked(self, run_id: str) -> BotRun:
        """The run, its row locked until the transaction ends (one change of it at a time)."""
        query = self._select().where(self._by_id(run_id)).with_for_update()
        row = (await self.session.execute(query)).scalar_one_or_none()
        if row is None:
            raise NotFoundError(f"run {run_id!r} not found")
        return row

    async def with_status(self, statuses: Sequence[str]) -> Sequence[BotRun]:
        return await self.list(BotRun.status.in_(statuses))  # type: ignore[attr-defined]


class RunRequestRepository(ScopedRepository[RunRequest]):
    model = RunRequest
    noun = "run request"


class _RunRows(ScopedRepository[RowT]):
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


class OrderRepository(_RunRows[BotOrder]):
    model = BotOrder
    noun = "order"

    async def working(self, run_id: str) -> Sequence[BotOrder]:
        """The run's orders that rest on (or are on their way to) the exchange, by line
        (``ix_bot_orders_run_status``: at most a grid's lines)."""
        query = (
            self._select()
            .where(col(BotOrder.run_id) == run_id, col(BotOrder.status).in_(_ACTIVE_STATUSES))
            .order_by(col(BotOrder.line), col(BotOrder.id))
        )
        return (await self.session.execute(query)).scalars().all()


class FillRepository(_RunRows[BotFill]):
    model = BotFill
    noun = "fill"

    async def recorded_after(self, run_id: str, cursor: int, limit: int) -> Sequence[BotFill]:
        """The run's fills recorded after fill id ``cursor``, in the order they were recorded
        (a range of ``ix_bot_fills_run_id``; a fill reported late has an old ``ts``, a new id)."""
        query = (
            self._select()
            .where(col(BotFill.run_id) == run_id, col(BotFill.id) > cursor)
            .order_by(col(BotFill.id))
            .limit(limit)
        )
        return (await self.session.execute(query)).scalars().all()

    async def newest(self, run_id: str) -> BotFill | None:
        """The run's fill with the latest market time (``ix_bot_fills_run_ts``)."""
        query = (
            self._select()
            .where(col(BotFill.run_id) == run_id)
            .order_by(col(BotFill.ts).desc(), col(BotFill.id).desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalars().first()

    async def last_recorded(self, run_id: str, limit: int) -> Sequence[BotFill]:
        """The run's ``limit`` most recently recorded fills, oldest first."""
        query = (
            self._select()
            .where(col(BotFill.run_id) == run_id)
            .order_by(col(BotFill.id).desc())
            .limit(limit)
        )
        rows = (await self.session.execute(query)).scalars().all()
        return rows[::-1]


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

    async def equity_between(
        self, run_ids: Sequence[str], start_ms: int, end_ms: int
    ) -> list[tuple[str, int, float]]:
        """(run id, time, equity) of the runs' snapshots in [start, end), oldest first."""
        if not run_ids:
            return []
        rows = await self.session.execute(
            select(
                col(BotInventorySnapshot.run_id),
                col(BotInventorySnapshot.ts),
                col(BotInventorySnapshot.equity),
            )
            .where(
                col(BotInventorySnapshot.client_id) == self.scope.client_id,
                col(BotInventorySnapshot.run_id).in_(run_ids),
                col(BotInventorySnapshot.ts) >= start_ms,
                col(BotInventorySnapshot.ts) < end_ms,
            )
            .order_by(col(BotInventorySnapshot.ts))
        )
        return [(run, int(ts), float(equity)) for run, ts, equity in rows.all()]


class GuardRepository(ScopedRepository[BotGuardState]):
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
