"""Unscoped SQL of the operator routes: runs and KPIs across every client.

This is one of the few places without a tenant scope (``tradebot.admin`` is their home); it
runs only on the operator connection, behind the operator dependency.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tradebot.models.billing import ClientSubscription
from tradebot.models.clients import Client
from tradebot.models.runs import BotGuardState, BotInventorySnapshot, BotRun


class OperatorQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def runs(self, status: str | None, client_id: str | None, limit: int) -> Sequence[BotRun]:
        query = select(BotRun).order_by(BotRun.created_at.desc()).limit(limit)  # type: ignore[attr-defined]
        if status:
            query = query.where(BotRun.status == status)  # type: ignore[arg-type]
        if client_id:
            query = query.where(BotRun.client_id == client_id)  # type: ignore[arg-type]
        return (await self.session.execute(query)).scalars().all()

    async def run(self, run_id: str) -> BotRun | None:
        return await self.session.get(BotRun, run_id)

    async def clients(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Client)) or 0)

    async def subscriptions(self) -> Sequence[ClientSubscription]:
        return (await self.session.execute(select(ClientSubscription))).scalars().all()

    async def clients_by_mode(self) -> dict[str, set[str]]:
        rows = await self.session.execute(
            select(col(BotRun.client_id), col(BotRun.mode)).distinct()
        )
        out: dict[str, set[str]] = {}
        for client, mode in rows.all():
            out.setdefault(mode, set()).add(client)
        return out

    async def realised_by_client(self) -> dict[str, float]:
        """Per client: the sum over its runs of the last snapshot's realised grid profit."""
        last = (
            select(
                col(BotInventorySnapshot.run_id),
                func.max(col(BotInventorySnapshot.ts)).label("ts"),
            )
            .group_by(col(BotInventorySnapshot.run_id))
            .subquery()
        )
        query = (
            select(
                col(BotInventorySnapshot.client_id), func.sum(col(BotInventorySnapshot.grid_profit))
            )
            .join(
                last,
                (col(BotInventorySnapshot.run_id) == last.c.run_id)
                & (col(BotInventorySnapshot.ts) == last.c.ts),
            )
            .group_by(col(BotInventorySnapshot.client_id))
        )
        return {
            client: float(total or 0.0)
            for client, total in (await self.session.execute(query)).all()
        }

    async def run_counts(self, column: str) -> dict[str, int]:
        field = getattr(BotRun, column)
        rows = await self.session.execute(select(field, func.count()).group_by(field))
        return {str(key): int(count) for key, count in rows.all()}

    async def failed_since(self, since: datetime) -> int:
        query = select(func.count()).where(
            BotRun.status == "failed",  # type: ignore[arg-type]
            BotRun.updated_at >= since,  # type: ignore[arg-type]
        )
        return int(await self.session.scalar(query) or 0)

    async def guards_since(self, since: datetime) -> int:
        query = select(func.count()).where(BotGuardState.tripped_at >= since)  # type: ignore[arg-type]
        return int(await self.session.scalar(query) or 0)
