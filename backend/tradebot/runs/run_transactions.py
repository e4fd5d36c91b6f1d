"""One run's rows are read and written in tenant transactions of the run's client."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.kit.scope import ClientScope, client_transaction


class RunTransactions:
    """The base of a run's stores: each ``transaction()`` is one tenant transaction, scoped to
    the run's client (row-level security backs up the filters its queries write)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], client_id: str, run_id: str
    ) -> None:
        self.sessions = sessions
        self.scope = ClientScope.of(client_id)
        self.client_id = client_id
        self.run_id = run_id

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        return client_transaction(self.sessions, self.scope)
