"""Editing a running grid: the preview the user confirms, and the edits' store the run reads.

The preview is the engine's own computation on the run's stored grid and state: the edited
grid (``runtime.grid_edits.edited_config``), the strategy re-centred on it at the reference
price (``GridStrategy.recentre``, the regime re-centre's step) and the book diff the run loop
syncs with (``runtime.book.diff_book``, over the syncs it takes) against the run's working
orders. So the orders it lists are the ones the run cancels and places when it applies the
edit at that price (orders its balances cannot pay for yet wait, as always).

Applying records the edit as a ``grid`` run request (``details``: the new range and lines);
``SqlGridEdits`` is the run loop's side of it (the ``runtime.grid_edits.GridEdits`` port).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from tradebot.bots.schemas import PlanPreview
from tradebot.engine import core
from tradebot.engine.errors import GridPlanError
from tradebot.engine.orders import OrderStatus
from tradebot.engine.plan import build_plan
from tradebot.engine.strategy import GridStrategy, WantedOrder
from tradebot.engine.types import GridConfig, MarketRules, Side
from tradebot.errors import BadInputError, ConflictError
from tradebot.kit.clock import utcnow
from tradebot.models.runs import BotOrder, RequestStatus, RunAction, RunRequest
from tradebot.runs.repository import RunRequestRepository
from tradebot.runs.run_transactions import RunTransactions
from tradebot.runs.schemas import GridEdit, GridEditPreview, OrderView, PlannedOrder
from tradebot.runtime.book import BookDiff, diff_book, whole_lots
from tradebot.runtime.grid_edits import GridEdit as RunGridEdit
from tradebot.runtime.grid_edits import edited_config
from tradebot.runtime.store import StoredOrder
from tradebot.venues.catalog import offline_rules

GRID_FIELDS = ("lower", "upper", "lines")


def market_rules(pair: str) -> MarketRules:
    """The pair's exchange rules as the preview knows them (offline; none for other pairs)."""
    try:
        return offline_rules(pair)
    except BadInputError:
        return MarketRules()


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
    )


def book_change(wanted: Sequence[WantedOrder], working: Sequence[StoredOrder]) -> BookDiff:
    """The run loop's book syncs until the book is the new grid's: the orders cancelled, then
    (a line takes a new order once its old one is gone) the orders placed. A line whose order
    is in flight gets nothing yet, as in the run loop."""
    first = diff_book(wanted, working)
    cancelled = {id(order) for order in first.cancel}
    then = diff_book(wanted, [order for order in working if id(order) not in cancelled])
    return BookDiff(place=then.place, cancel=first.cancel + then.cancel)


def preview_edit(
    config: Mapping[str, Any],
    state: Sequence[float],
    pair: str,
    working: Sequence[BotOrder],
    edit: GridEdit,
    price: float,
    price_ts: int | None,
) -> GridEditPreview:
    """What applying ``edit`` at ``price`` does to a run trading ``config`` from ``state``
    with ``working`` orders; a new grid that cannot trade is ``GridPlanError``."""
    if not state or float(state[core.INVESTMENT]) <= 0:
        raise ConflictError("the run has not started trading yet: edit its bot instead")
    rules = market_rules(pair)
    current = GridConfig.from_dict(config)
    strategy = GridStrategy(build_plan(current, rules), np.asarray(state, dtype=np.float64))
    base, quote = float(strategy.state[core.BASE]), float(strategy.state[core.QUOTE])
    equity = quote + base * price
    moved = edited_config(
        current, lower=edit.lower, upper=edit.upper, lines=edit.lines, equity=equity
    )
    try:
        plan = build_plan(moved, rules)
        strategy.recentre(plan, price)
        summary = plan.summary(price)
    except (ArithmeticError, ValueError) as exc:
        if isinstance(exc, GridPlanError):
            raise
        raise GridPlanError(
            "the grid's numbers are out of range: narrow the range or use fewer lines"
        ) from None
    by_id = {row.client_order_id: row for row in working}
    diff = book_change(strategy.wanted(), [_stored(row) for row in working])
    base_to_buy = whole_lots(strategy.base_shortfall(), rules.lot_step)
    return GridEditPreview(
        reference_price=price,
        reference_ts=price_ts,
        cancel=[
            OrderView.model_validate(by_id[o.client_order_id], from_attributes=True)
            for o in diff.cancel
        ],
        place=[
            PlannedOrder(line=w.line, side=w.side.value, price=w.price, qty=w.qty)
            for w in diff.place
        ],
        base_to_buy=base_to_buy,
        quote_for_base=base_to_buy * price * (1 + moved.taker_fee),
        investment_before=current.investment,
        investment_after=moved.investment,
        capital_change=moved.investment - current.investment,
        empty_line=strategy.empty_line,
        plan=PlanPreview.model_validate(summary),
    )


class GridEditRequests(RunRequestRepository):
    """A run's ``grid`` requests: recorded by the API, taken and settled by the run loop."""

    async def queued(self, run_id: str) -> Sequence[RunRequest]:
        return await self.list(
            col(RunRequest.run_id) == run_id,
            col(RunRequest.action) == RunAction.GRID.value,
            col(RunRequest.status) == RequestStatus.QUEUED.value,
            order_by=(col(RunRequest.id),),
        )

    @staticmethod
    def settle(row: RunRequest, status: RequestStatus, **details: Any) -> None:
        row.status, row.handled_at = status.value, utcnow()
        row.details = {**(row.details or {}), **details}  # a new dict: the change is seen

    async def record(self, run_id: str, actor: str, edit: GridEdit) -> RunRequest:
        """A new queued edit of ``run_id``; edits still queued are superseded by it."""
        older = await self.queued(run_id)
        row = RunRequest(
            client_id=self.scope.client_id,
            run_id=run_id,
            action=RunAction.GRID.value,
            actor=actor,
            details=edit.model_dump(include=set(GRID_FIELDS)),
        )
        await self.add(row)
        for old in older:
            self.settle(old, RequestStatus.FAILED, superseded_by=row.id)
        return row


class SqlGridEdits(RunTransactions):
    """``runtime.grid_edits.GridEdits`` on the run's ``grid`` requests: one tenant transaction
    per call (the query reads the few queued requests through their status index). ``queued``,
    when given, says whether there can be one: no transaction is opened while it says no."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client_id: str,
        run_id: str,
        *,
        queued: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__(sessions, client_id, run_id)
        self._queued = queued

    async def take(self) -> RunGridEdit | None:
        if self._queued is not None and not self._queued():
            return None
        async with self.transaction() as session:
            requests = GridEditRequests(session, self.scope)
            queued = list(await requests.queued(self.run_id))
            if not queued:
                return None
            newest = queued.pop()
            for old in queued:
                requests.settle(old, RequestStatus.FAILED, superseded_by=newest.id)
            requests.settle(newest, RequestStatus.TAKEN)
            grid = newest.details or {}
            assert newest.id is not None
            return RunGridEdit(
                newest.id, float(grid["lower"]), float(grid["upper"]), int(grid["lines"])
            )

    async def _settle(self, edit: RunGridEdit, status: RequestStatus, **details: Any) -> None:
        async with self.transaction() as session:
            row = await GridEditRequests(session, self.scope).get(edit.request_id)
            GridEditRequests.settle(row, status, **details)

    async def applied(self, edit: RunGridEdit, config: GridConfig) -> None:
        await self._settle(edit, RequestStatus.DONE, applied=config.to_dict())

    async def refused(self, edit: RunGridEdit, reason: str) -> None:
        await self._settle(edit, RequestStatus.FAILED, reason=reason)
