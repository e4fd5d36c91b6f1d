"""The login directory's SQL.

A login is resolved to its client before there is a tenant scope, so this runs on the operator
connection; it reads and writes only ``users`` rows, by the caller's own ``sub``, and creates
the client row of a first login. It is the one unscoped access outside ``tradebot.admin``.
(``AuditTrail`` is an ordinary tenant-scoped repository.)
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from tradebot.clients.repository import AuditRepository
from tradebot.models.auth import User
from tradebot.models.clients import AuditLog, Client


class UserDirectory:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, sub: str) -> User | None:
        return await self.session.get(User, sub)

    async def provision(self, user: User, client: Client) -> User:
        """Insert a new client and its first user (flushed: a race shows as IntegrityError)."""
        self.session.add(client)
        await self.session.flush()
        self.session.add(user)
        await self.session.flush()
        return user


class AuditTrail(AuditRepository):
    """The scope's audit entries, newest first, a page at a time."""

    async def page(self, limit: int, offset: int) -> Sequence[AuditLog]:
        query = self._select().order_by(AuditLog.id.desc()).limit(limit).offset(offset)  # type: ignore[union-attr]
        return (await self.session.execute(query)).scalars().all()
