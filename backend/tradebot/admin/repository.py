"""Queries across clients, for the operator only (no tenant scope: this is the one place)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tradebot.models.clients import AuditLog, Client
from tradebot.models.credentials import ClientApiCredential


class AdminRepository:
    """Unscoped SQL: every client, every credential row, operator audit entries."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def clients(self) -> Sequence[Client]:
        return (await self.session.execute(select(Client).order_by(Client.id))).scalars().all()

    async def all_credentials(self) -> Sequence[ClientApiCredential]:
        """Every stored key of every client, in id order (the order a rotation rewrites them)."""
        query = select(ClientApiCredential).order_by(ClientApiCredential.id)
        return (await self.session.execute(query)).scalars().all()

    async def record(
        self, actor: str, action: str, target: str, details: dict[str, Any]
    ) -> AuditLog:
        """An audit entry of an action that spans clients (``client_id`` empty)."""
        entry = AuditLog(client_id=None, actor=actor, action=action, target=target, details=details)
        self.session.add(entry)
        await self.session.flush()
        return entry
