"""The caller's own account: who they are, their client, and the client's audit trail."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.auth.repository import AuditTrail
from tradebot.auth.schemas import AuditEntry, MeView, Principal
from tradebot.clients.repository import ClientRepository
from tradebot.kit.scope import client_transaction


class AccountService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], principal: Principal) -> None:
        self.sessions = sessions
        self.principal = principal
        self.scope = principal.scope()

    async def me(self) -> MeView:
        async with client_transaction(self.sessions, self.scope) as session:
            client = await ClientRepository(session, self.scope).own()
        return MeView(
            subject=self.principal.subject,
            email=self.principal.email,
            operator=self.principal.operator,
            client_id=client.id,
            client_name=client.name,
            plan=client.plan,
            client_status=client.status,
            created_at=client.created_at,
        )

    async def audit(self, limit: int, offset: int) -> list[AuditEntry]:
        async with client_transaction(self.sessions, self.scope) as session:
            rows = await AuditTrail(session, self.scope).page(limit, offset)
            return [AuditEntry.model_validate(row, from_attributes=True) for row in rows]
