"""The operator's API verbs: clients (through ``ClientAdmin``), guard resets, runs, KPIs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.admin.queries import OperatorQueries
from tradebot.admin.schemas import (
    ClientDetailsView,
    ClientUpdate,
    ClientUpserted,
    GuardsReset,
    Kpis,
    OperatorRunDetail,
    OperatorRunView,
    RunCounts,
)
from tradebot.admin.service import ClientAdmin, ClientChanges
from tradebot.billing.events import ENDED
from tradebot.clients.plans import ACTIVE_SUBSCRIPTION, plan_spec
from tradebot.clients.repository import AuditRepository, ClientRepository
from tradebot.clients.schemas import ClientView
from tradebot.db import transaction
from tradebot.errors import BadInputError, NotFoundError
from tradebot.kit.clock import utcnow
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.models.runs import BotRun
from tradebot.runs.repository import GuardRepository, SnapshotRepository
from tradebot.runs.schemas import GuardView, SnapshotView, views
from tradebot.runs.service import run_view


def operator_run(row: BotRun) -> OperatorRunView:
    return OperatorRunView(**run_view(row).model_dump(), client_id=row.client_id)


class Operations:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], actor: str) -> None:
        self.sessions = sessions
        self.actor = actor
        self.clients = ClientAdmin(sessions, actor)

    async def list_clients(self) -> list[ClientView]:
        return await self.clients.list_clients()

    async def client(self, client_id: str) -> ClientDetailsView:
        details = await self.clients.show_client(client_id)
        return ClientDetailsView(client=details.client, credentials=list(details.credentials))

    async def upsert_client(self, client_id: str, body: ClientUpdate) -> ClientUpserted:
        if body.limits is not None and not isinstance(body.limits, dict):
            raise BadInputError("limits: must be a JSON object")
        changes = ClientChanges(
            name=body.name,
            owner=body.owner,
            plan=body.plan,
            status=body.status,
            limits=json.dumps(body.limits) if body.limits is not None else None,
        )
        view, created = await self.clients.upsert_client(client_id, changes)
        return ClientUpserted(client=view, created=created)

    async def reset_guards(self, client_id: str) -> GuardsReset:
        """Clear the client's active guards (its kill switch and tripped runs' guards)."""
        scope = ClientScope.of(client_id)
        async with client_transaction(self.sessions, scope) as session:
            await ClientRepository(session, scope).own()
            guards = GuardRepository(session, scope)
            active = await guards.list(guards.model.active.is_(True))  # type: ignore[attr-defined]
            for row in active:
                row.active, row.reset_at, row.reset_by = False, utcnow(), self.actor
            await AuditRepository(session, scope).record(
                self.actor,
                "guards_reset",
                target=f"client {client_id}",
                details={"guards": [row.id for row in active]},
            )
            await session.flush()
            return GuardsReset(client_id=client_id, reset=views(active, GuardView))

    async def runs(
        self, status: str | None, client_id: str | None, limit: int
    ) -> Sequence[OperatorRunView]:
        async with transaction(self.sessions) as session:
            rows = await OperatorQueries(session).runs(status, client_id, limit)
            return [operator_run(row) for row in rows]

    async def run(self, run_id: str) -> OperatorRunDetail:
        async with transaction(self.sessions) as session:
            row = await OperatorQueries(session).run(run_id)
        if row is None:
            raise NotFoundError(f"run {run_id!r} not found")
        scope = ClientScope.of(row.client_id)
        async with client_transaction(self.sessions, scope) as session:
            latest = await SnapshotRepository(session, scope).latest(run_id)
            guards = await GuardRepository(session, scope).for_run(run_id)
            return OperatorRunDetail(
                **operator_run(row).model_dump(),
                latest=SnapshotView.model_validate(latest, from_attributes=True)
                if latest
                else None,
                guards=views(guards, GuardView),
            )

    async def kpis(self) -> Kpis:
        now = utcnow()
        month_ago, day_ago = now - timedelta(days=30), now - timedelta(days=1)
        async with transaction(self.sessions) as session:
            q = OperatorQueries(session)
            subscriptions = await q.subscriptions()
            active = [s for s in subscriptions if s.status in ACTIVE_SUBSCRIPTION]
            churned = [s for s in subscriptions if s.status in ENDED and s.updated_at >= month_ago]
            modes = await q.clients_by_mode()
            paper, live = modes.get("paper", set()), modes.get("live", set())
            realised = await q.realised_by_client()
            return Kpis(
                clients=await q.clients(),
                paying_clients=len(active),
                mrr_usd=float(sum(plan_spec(s.plan).price_usd_month or 0 for s in active)),
                churn_30d=_share(len(churned), len(active) + len(churned)),
                activation=_share(len(paper & live), len(paper)),
                avg_realised_pnl_per_client=(
                    sum(realised.values()) / len(realised) if realised else 0.0
                ),
                runs=RunCounts(
                    by_status=await q.run_counts("status"),
                    by_mode=await q.run_counts("mode"),
                    failed_last_24h=await q.failed_since(day_ago),
                    guards_tripped_last_24h=await q.guards_since(day_ago),
                ),
                computed_at=now,
            )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
