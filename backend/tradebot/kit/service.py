"""The base of services that act for one client: its sessions, its scope, and who acts."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.kit.scope import ClientScope, client_transaction


class ClientService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], scope: ClientScope, actor: str
    ) -> None:
        self.sessions = sessions
        self.scope = scope
        self.actor = actor
        """How audit entries name the caller."""

    def tx(self) -> AbstractAsyncContextManager[AsyncSession]:
        """One tenant transaction of the scope's client (row-level security on PostgreSQL)."""
        return client_transaction(self.sessions, self.scope)
