"""Runs of a client's bots through the API: start (paper or live), stop, and what they did.

Starting a run checks the plan's entitlements and the kill switch, writes the ``bot_runs`` row
(status ``created``) and its ``run_requests`` intent in one tenant transaction, and only after
the commit hands the run to the ``RunQueue``. Stopping a run that no worker took yet ends it at
once; a running one gets a stop request and an abort signal, and its worker writes the end.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.billing.entitlements import require_run_start
from tradebot.billing.repository import EntitlementRepository
from tradebot.bots.repository import BotRepository
from tradebot.clients.repository import AuditRepository
from tradebot.consent.documents import ConsentTexts
from tradebot.consent.service import missing_consent
from tradebot.credentials.service import CredentialService
from tradebot.errors import ConflictError
from tradebot.kit.clock import utcnow
from tradebot.kit.scope import ClientScope
from tradebot.kit.service import ClientService
from tradebot.models.credentials import CredentialStatus
from tradebot.models.runs import BotRun, RunAction, RunMode, RunRequest, RunStatus
from tradebot.runs.configuration import RunNotAllowedError
from tradebot.runs.grid_edit import GRID_FIELDS, GridEditRequests, preview_edit
from tradebot.runs.queue import RunQueue
from tradebot.runs.repository import (
    FillRepository,
    GuardRepository,
    OrderRepository,
    RunRepository,
    RunRequestRepository,
    SnapshotRepository,
    run_status,
)
from tradebot.runs.schemas import (
    EquityPoint,
    FillView,
    GridEdit,
    GridEditAccepted,
    GridEditPreview,
    GuardView,
    OrderView,
    RunGrid,
    RunStart,
    RunStatusView,
    RunUpdates,
    RunView,
    SnapshotView,
    views,
)

log = logging.getLogger(__name__)
UPDATE_FILLS = 500
"""The most fills one ``updates`` answer carries (``more`` says when others wait)."""
GRID_KEYS = frozenset(RunGrid.model_fields)
"""A run's config has its grid when it has these (every run the API or a worker made does)."""
OVER = frozenset({RunStatus.STOPPED, RunStatus.TRIPPED, RunStatus.FINISHED, RunStatus.FAILED})


def bot_id(config: dict[str, Any]) -> str | None:
    """The bot a run was started from (runs started outside the API have none)."""
    value = config.get("bot_id")
    return value if isinstance(value, str) else None


def run_view(row: BotRun) -> RunView:
    return RunView(
        id=row.id,
        bot_id=bot_id(row.config),
        mode=row.mode,
        exchange=row.exchange,
        pair=row.pair,
        status=row.status,
        stop_reason=row.stop_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def after_commit(what: str, call: Callable[[], Awaitable[object]]) -> None:
    """Hand work to the queue after the commit; if Redis fails, the recorded intent remains."""
    try:
        await call()
    except (RedisError, OSError) as exc:
        log.warning("%s: queue unavailable, left for the sweeper: %s", what, exc)


async def request_stop(
    session: AsyncSession, scope: ClientScope, run: BotRun, actor: str, reason: str
) -> bool:
    """End a run not yet taken, or record a stop request for a running one.

    Returns whether a worker must be told (the run was running). In the caller's transaction.
    """
    if RunStatus(run.status) in OVER:
        return False
    running = run.status == RunStatus.RUNNING.value
    if not running:
        run.status, run.stop_reason = RunStatus.STOPPED.value, reason
        run.updated_at = utcnow()
    await RunRequestRepository(session, scope).add(
        RunRequest(
            client_id=scope.client_id,
            run_id=run.id,
            action=RunAction.STOP.value,
            status="queued" if running else "done",
            actor=actor,
        )
    )
    await AuditRepository(session, scope).record(
        actor, "run_stop_requested", target=f"run {run.id}", details={"reason": reason}
    )
    return running


class RunService(ClientService):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        scope: ClientScope,
        actor: str,
        queue: RunQueue,
        consent_texts: ConsentTexts | None = None,
    ) -> None:
        super().__init__(sessions, scope, actor)
        self.queue = queue
        self.consent_texts = consent_texts
        """The consent documents a live start needs accepted (``None``: the packaged ones)."""

    async def start(self, body: RunStart) -> RunView:
        mode = RunMode.LIVE if body.live else RunMode.PAPER
        async with self.tx() as session:
            facts = await EntitlementRepository(session, self.scope).facts(lock=True)
            bot = await BotRepository(session, self.scope).get(body.bot_id)
            if await GuardRepository(session, self.scope).client_wide(active_only=True):
                raise ConflictError("the kill switch is on: no run can start until it is reset")
            require_run_start(facts, body.live, datetime.now(UTC))
            if body.live:
                keys = await CredentialService(session, self.scope).find(bot.exchange)
                if keys is None or keys.status != CredentialStatus.ACTIVE.value:
                    raise RunNotAllowedError(
                        f"live trading on {bot.exchange} needs keys checked against the exchange"
                    )
                missing = await missing_consent(session, self.scope, self.consent_texts)
                if missing:
                    raise RunNotAllowedError(
                        f"live trading needs your acceptance of {', '.join(missing)}: read and "
                        "accept them in the portal (GET /consent, POST /consent)"
                    )
            run = BotRun(
                id=f"{mode.value}-{uuid.uuid4().hex[:16]}",
                client_id=self.scope.client_id,
                mode=mode.value,
                exchange=bot.exchange,
                pair=bot.pair,
                config={**bot.config, "bot_id": bot.id},
                base_ts=int(time.time() * 1000),
                owner=self.actor,
            )
            await RunRepository(session, self.scope).add(run)
            await RunRequestRepository(session, self.scope).add(
                RunRequest(
                    client_id=self.scope.client_id,
                    run_id=run.id,
                    action=RunAction.START.value,
                    actor=self.actor,
                )
            )
            await AuditRepository(session, self.scope).record(
                self.actor, "run_requested", target=f"run {run.id}", details={"mode": mode.value}
            )
            view = run_view(run)
        await after_commit(view.id, lambda: self.queue.start(self.scope.client_id, view.id))
        return view

    async def stop(self, run_id: str) -> RunView:
        async with self.tx() as session:
            run = await RunRepository(session, self.scope).get(run_id)
            notify = await request_stop(session, self.scope, run, self.actor, "stopped by user")
            view = run_view(run)
        if notify:
            await after_commit(run_id, lambda: self.queue.stop(run_id))
        return view

    async def list(self, limit: int) -> list[RunView]:
        async with self.tx() as session:
            return [run_view(r) for r in await RunRepository(session, self.scope).recent(limit)]

    async def status(self, run_id: str) -> RunStatusView:
        found = dict(await run_status(self.sessions, self.scope, run_id))
        latest = SnapshotView.model_validate(found) if found["ts"] is not None else None
        config = found["config"] or {}
        grid = RunGrid.model_validate(config) if set(config) >= GRID_KEYS else None
        return RunStatusView.model_validate(
            {**found, "bot_id": bot_id(config), "latest": latest, "grid": grid}
        )

    async def orders(self, run_id: str, limit: int, offset: int) -> Sequence[OrderView]:
        async with self.tx() as session:
            await RunRepository(session, self.scope).get(run_id)
            rows = await OrderRepository(session, self.scope).page(run_id, limit, offset)
            return views(rows, OrderView)

    async def fills(self, run_id: str, limit: int, offset: int) -> Sequence[FillView]:
        async with self.tx() as session:
            await RunRepository(session, self.scope).get(run_id)
            rows = await FillRepository(session, self.scope).page(run_id, limit, offset)
            return views(rows, FillView)

    async def equity(self, run_id: str, limit: int, offset: int) -> Sequence[EquityPoint]:
        """The equity series: one point per inventory snapshot the run loop stored."""
        async with self.tx() as session:
            await RunRepository(session, self.scope).get(run_id)
            rows = await SnapshotRepository(session, self.scope).page(run_id, limit, offset)
            return views(rows, EquityPoint)

    async def guards(self, run_id: str) -> Sequence[GuardView]:
        async with self.tx() as session:
            await RunRepository(session, self.scope).get(run_id)
            return views(await GuardRepository(session, self.scope).for_run(run_id), GuardView)

    async def updates(self, run_id: str, since: int | None) -> RunUpdates:
        """The run's status, fills recorded after the cursor ``since`` (none: the latest),
        working orders and guards: what the run page polls every second. Indexed reads only:
        the status statement, a range of the run's fills by id, its working orders by status.
        """
        run = await self.status(run_id)  # a foreign or missing run is 404 here
        async with self.tx() as session:
            fills = FillRepository(session, self.scope)
            if since is None:
                rows = list(await fills.last_recorded(run_id, UPDATE_FILLS))
                more = False
            else:
                rows = list(await fills.recorded_after(run_id, since, UPDATE_FILLS + 1))
                more = len(rows) > UPDATE_FILLS
                rows = rows[:UPDATE_FILLS]
            orders = await OrderRepository(session, self.scope).working(run_id)
            guards = await GuardRepository(session, self.scope).for_run(run_id)
            last = rows[-1].id if rows else since
            return RunUpdates(
                cursor=str(last or 0),
                more=more,
                run=run,
                fills=views(rows, FillView),
                orders=views(orders, OrderView),
                guards=views(guards, GuardView),
            )

    async def preview_grid(self, run_id: str, edit: GridEdit) -> GridEditPreview:
        """What editing the running grid would cancel, place and buy (nothing is saved)."""
        async with self.tx() as session:
            run = await RunRepository(session, self.scope).get(run_id)
            return await self._grid_preview(session, run, edit)

    async def apply_grid(self, run_id: str, edit: GridEdit) -> GridEditAccepted:
        """Record the edit for the run's worker (it supersedes an edit still queued); the run
        keeps trading and applies it at a tick. Audited with the grid before and after."""
        async with self.tx() as session:
            run = await RunRepository(session, self.scope).locked(run_id)
            preview = await self._grid_preview(session, run, edit)
            row = await GridEditRequests(session, self.scope).record(run_id, self.actor, edit)
            assert row.id is not None
            await AuditRepository(session, self.scope).record(
                self.actor,
                "run_grid_edit_requested",
                target=f"run {run_id}",
                details={
                    "request_id": row.id,
                    "from": {k: run.config.get(k) for k in GRID_FIELDS},
                    "to": edit.model_dump(include=set(GRID_FIELDS)),
                    "reference_price": preview.reference_price,
                },
            )
            return GridEditAccepted(request_id=row.id, status=row.status, preview=preview)

    async def _grid_preview(
        self, session: AsyncSession, run: BotRun, edit: GridEdit
    ) -> GridEditPreview:
        if run.status != RunStatus.RUNNING.value:
            raise ConflictError(
                f"run {run.id} is {run.status}: only a running grid can be edited "
                "(edit its bot for the next run)"
            )
        price, price_ts = edit.reference_price, None
        if price is None:
            price, price_ts = await self._last_price(session, run.id)
        working = await OrderRepository(session, self.scope).working(run.id)
        return preview_edit(run.config, run.state, run.pair, working, edit, price, price_ts)

    async def _last_price(self, session: AsyncSession, run_id: str) -> tuple[float, int]:
        """The run's newest known price and its time: its last fill or snapshot."""
        seen: list[tuple[int, float]] = []
        fill = await FillRepository(session, self.scope).newest(run_id)
        if fill is not None:
            seen.append((fill.ts, fill.price))
        snapshot = await SnapshotRepository(session, self.scope).latest(run_id)
        if snapshot is not None:
            seen.append((snapshot.ts, snapshot.price))
        if not seen:
            raise ConflictError(
                f"run {run_id} has no price yet (no fill, no snapshot): give reference_price"
            )
        ts, price = max(seen)
        return price, ts
