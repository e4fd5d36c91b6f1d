"""SQL of one client: its own ``clients`` row and its audit trail."""

from __future__ import annotations

from typing import Any

from tradebot.kit.repository import ScopedRepository
from tradebot.models.clients import AuditLog, Client


class ClientRepository(ScopedRepository[Client]):
    """The scope's own row of ``clients`` (the tenant table is keyed by ``id``)."""

    model = Client
    scope_column = "id"
    noun = "client"

    async def own(self) -> Client:
        """The scope's client row; ``NotFoundError`` if the client does not exist."""
        return await self.get(self.scope.client_id)


class AuditRepository(ScopedRepository[AuditLog]):
    model = AuditLog
    noun = "audit entry"

    async def record(
        self, actor: str, action: str, target: str, details: dict[str, Any] | None = None
    ) -> AuditLog:
        """Append one entry for the scope's client (in the caller's transaction)."""
        return await self.add(
            AuditLog(
                client_id=self.scope.client_id,
                actor=actor,
                action=action,
                target=target,
                details=details or {},
            )
        )
