"""The tenant scope: which client a piece of code may read and write, and the transaction that
enforces it a second time in PostgreSQL.

Two independent locks keep tenants apart:

1. Repositories (``kit.repository``) take a ``ClientScope`` in their constructor and add it to
   every statement; a foreign id reads as "not found".
2. On PostgreSQL every tenant table has FORCE ROW LEVEL SECURITY. ``client_transaction`` runs
   its transaction as the application role ``tradebot_app`` (neither owner nor superuser) with
   the client id in the ``app.client_id`` setting, both ``SET LOCAL``: a repository bug, or raw
   SQL, still sees and changes only that client's rows, and nothing outlives the transaction
   on a pooled connection.

The operator path (migrations, the admin CLI) uses ``tradebot.db.transaction`` on the owner's
connection with no tenant set; only ``tradebot.admin`` issues unscoped queries.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Final, NewType

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.errors import BadInputError, TradeBotError

ClientId = NewType("ClientId", str)
APP_ROLE: Final = "tradebot_app"
"""The PostgreSQL role tenant transactions run as (created by the migrations, NOLOGIN)."""
TENANT_SETTING: Final = "app.client_id"
"""The transaction-local setting the row-level security policies compare ``client_id`` with."""

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ENTER_TENANT: Final = text(
    "SELECT set_config('role', :role, true), set_config(:setting, :client, true)"
)
"""Makes a PostgreSQL transaction a tenant's (``scope_values``): both settings end with it."""


class ClientMismatchError(TradeBotError):
    """Code scoped to one client was asked to act for another: refused, never silently empty."""


def client_id(value: str) -> ClientId:
    """Check the shape of a client id (1-64 of letters, digits, ``.``, ``_``, ``-``)."""
    if not _ID.fullmatch(value):
        raise BadInputError(
            f"client id {value!r}: 1-64 letters, digits, '.', '_' or '-', starting alphanumeric"
        )
    return ClientId(value)


@dataclass(frozen=True, slots=True)
class ClientScope:
    """The one client a repository, a service or a transaction acts for."""

    client_id: ClientId

    @classmethod
    def of(cls, value: str) -> ClientScope:
        return cls(client_id(value))

    def require(self, other: str) -> ClientId:
        """``other`` if it is this scope's client; anything else is a ``ClientMismatchError``."""
        if other != self.client_id:
            raise ClientMismatchError(
                f"scoped to client {self.client_id!r}; refusing to act for client {other!r}"
            )
        return self.client_id


def process_scope(process_client: str, requested: str | None = None) -> ClientScope:
    """The scope of a process started with ``CLIENT_ID=process_client``.

    Asking for another client (``requested``) is an error, never an empty result.
    """
    scope = ClientScope.of(process_client)
    if requested is not None:
        scope.require(requested)
    return scope


def scope_values(scope: ClientScope) -> dict[str, str]:
    """The values ``ENTER_TENANT`` binds for ``scope``."""
    return {"role": APP_ROLE, "setting": TENANT_SETTING, "client": scope.client_id}


@asynccontextmanager
async def client_transaction(
    sessions: async_sessionmaker[AsyncSession], scope: ClientScope
) -> AsyncIterator[AsyncSession]:
    """A session in one transaction scoped to ``scope``: commits on success, rolls back on error.

    On PostgreSQL the transaction runs as ``tradebot_app`` with ``app.client_id`` set (both
    transaction-local), so row-level security applies even where a query forgot its filter.
    The connecting role must be a member of ``tradebot_app`` (the migrations grant that to the
    role that runs them). SQLite has no row-level security: the repositories' filter is the
    only lock there.
    """
    async with sessions() as session, session.begin():
        connection = await session.connection()
        if connection.dialect.name == "postgresql":
            await session.execute(ENTER_TENANT, scope_values(scope))
        yield session
