"""The operator's verbs (``tradebot client-admin``): clients, their keys, the master key.

Each verb runs in one operator transaction and writes its audit entry in that transaction, so
a change is never without its record and a refused change leaves nothing behind. Per-client
work goes through the tenant-scoped repositories even here; only ``AdminRepository`` spans
clients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.admin.repository import AdminRepository
from tradebot.admin.rotation import Progress, RotationResult, rotate_master_key
from tradebot.clients.plans import PlanName
from tradebot.clients.repository import AuditRepository, ClientRepository
from tradebot.clients.schemas import ClientStatus, ClientView, parse_limits
from tradebot.credentials.schemas import CredentialMetadata
from tradebot.credentials.service import (
    CredentialService,
    StoredCredentials,
)
from tradebot.credentials.storing import NewKey, store_credentials
from tradebot.db import transaction
from tradebot.kit.clock import utcnow
from tradebot.kit.scope import ClientScope
from tradebot.kit.secrets import Secret
from tradebot.models.clients import Client
from tradebot.venues.permissions import (
    KeyPermissionCheck,
)


@dataclass(frozen=True)
class ClientDetails:
    client: ClientView
    credentials: Sequence[CredentialMetadata]


@dataclass(frozen=True)
class ClientChanges:
    """What ``upsert_client`` sets; ``None`` leaves a field as it is (or its default)."""

    name: str | None = None
    owner: str | None = None
    plan: str | None = None
    status: str | None = None
    limits: str | None = None
    """JSON text; validated before anything is written."""


class ClientAdmin:
    """Operator verbs over one database; ``actor`` goes into every audit entry."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], actor: str) -> None:
        self.sessions = sessions
        self.actor = actor

    async def list_clients(self) -> list[ClientView]:
        async with transaction(self.sessions) as session:
            return [ClientView.of(row) for row in await AdminRepository(session).clients()]

    async def show_client(self, client: str) -> ClientDetails:
        scope = ClientScope.of(client)
        async with transaction(self.sessions) as session:
            row = await ClientRepository(session, scope).own()
            keys = await CredentialService(session, scope).metadata()
            return ClientDetails(ClientView.of(row), keys)

    async def list_credentials(self, client: str) -> Sequence[CredentialMetadata]:
        return (await self.show_client(client)).credentials

    async def upsert_client(self, client: str, changes: ClientChanges) -> tuple[ClientView, bool]:
        """Create the client or change the given fields; returns (client, created)."""
        scope = ClientScope.of(client)
        fields = _validated(changes)
        async with transaction(self.sessions) as session:
            clients = ClientRepository(session, scope)
            row = await clients.find(scope.client_id)
            created = row is None
            if row is None:
                row = Client(id=scope.client_id, name=scope.client_id)
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            await clients.add(row)
            await AuditRepository(session, scope).record(
                self.actor,
                "client_upserted",
                target=f"client {scope.client_id}",
                details={"created": created, "set": fields},
            )
            return ClientView.of(row), created

    async def store_credentials(
        self,
        client: str,
        exchange: str,
        api_key: str,
        api_secret: str,
        passphrase: str | None,
        master_key: Secret | None,
        check: KeyPermissionCheck | None,
        label: str = "main",
    ) -> StoredCredentials:
        """Seal and store a client's key (``credentials.storing``); ``check=None``: unverified."""
        return await store_credentials(
            self.sessions,
            self.actor,
            client,
            NewKey(exchange, api_key, api_secret, passphrase, label),
            master_key,
            check,
        )

    async def rotate_master_key(
        self, current: Secret | None, new: Secret | None, progress: Progress | None = None
    ) -> RotationResult:
        async with transaction(self.sessions) as session:
            return await rotate_master_key(session, current, new, self.actor, progress)


def _validated(changes: ClientChanges) -> dict[str, Any]:
    from tradebot.errors import BadInputError

    fields: dict[str, Any] = {}
    if changes.plan is not None and changes.plan not in {p.value for p in PlanName}:
        plans = ", ".join(p.value for p in PlanName)
        raise BadInputError(f"plan {changes.plan!r}: one of {plans}")
    if changes.status is not None and changes.status not in {s.value for s in ClientStatus}:
        raise BadInputError(
            f"status {changes.status!r}: one of {', '.join(s.value for s in ClientStatus)}"
        )
    for name in ("name", "owner", "plan", "status"):
        value = getattr(changes, name)
        if value is not None:
            fields[name] = value.strip()
    if changes.limits is not None:
        fields["limits"] = parse_limits(changes.limits).to_json()
    return fields
