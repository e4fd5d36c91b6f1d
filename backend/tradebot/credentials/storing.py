"""Storing a client's exchange key: the one path of the admin CLI, the operator route and the
customer's own ``PUT /credentials``.

The client, the master key and the input are checked first; then the exchange is asked what the
key may do, outside any transaction (no lock held over the wire); then the sealed row and its
audit entry are written in one transaction. A key that can withdraw is refused and trips the
client's kill switch, with its audit entry, in one transaction: a key that could move funds out
was handed to us, so every run of the client stops until an operator has looked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.clients.repository import AuditRepository, ClientRepository
from tradebot.credentials.keyring import (
    current_meta,
    open_keyring_for_writing,
    require_master_key,
    unlock,
)
from tradebot.credentials.repository import KillSwitchRepository
from tradebot.credentials.service import (
    CredentialService,
    StoredCredentials,
    exchange_id,
    label_name,
    new_credentials,
)
from tradebot.db import transaction
from tradebot.engine.risk import Guard
from tradebot.kit.scope import ClientScope
from tradebot.kit.secrets import Secret
from tradebot.models.credentials import CredentialStatus
from tradebot.venues.permissions import (
    UNCHECKED,
    KeyPermissionCheck,
    KeyPermissionError,
    KeyPermissions,
    require_trading_only,
)


@dataclass(frozen=True)
class NewKey:
    """A key as given, before any check (``repr`` shows no secret)."""

    exchange: str
    api_key: str
    api_secret: str
    passphrase: str | None
    label: str = "main"

    def __repr__(self) -> str:
        return f"NewKey(exchange={self.exchange!r}, label={self.label!r}, api_key=***)"


async def store_credentials(
    sessions: async_sessionmaker[AsyncSession],
    actor: str,
    client: str,
    key: NewKey,
    master_key: Secret | None,
    check: KeyPermissionCheck | None,
) -> StoredCredentials:
    """Seal and store ``key`` for ``client``; ``check=None`` stores it unverified (paper only)."""
    scope = ClientScope.of(client)
    venue, label = exchange_id(key.exchange), label_name(key.label)
    credentials = new_credentials(key.api_key, key.api_secret, key.passphrase)
    material = require_master_key(master_key)
    async with transaction(sessions) as session:
        await ClientRepository(session, scope).own()
        meta = await current_meta(session)
        if meta is not None:
            unlock(material, meta)
    permissions: dict[str, Any] = dict(UNCHECKED)
    status = CredentialStatus.UNVERIFIED
    if check is not None:
        answer = await check.check(
            venue, credentials.api_key, credentials.secret, credentials.passphrase
        )
        try:
            require_trading_only(venue, answer)
        except KeyPermissionError as refused:
            if answer.can_withdraw:
                await _trip_for_withdrawals(
                    sessions, actor, scope, f"{venue}/{label}", answer, refused
                )
            raise
        permissions, status = answer.snapshot(), CredentialStatus.ACTIVE
    async with transaction(sessions) as session:
        keyring = await open_keyring_for_writing(session, master_key)
        stored = await CredentialService(session, scope).store(
            keyring, venue, label, credentials, permissions, status
        )
        await AuditRepository(session, scope).record(
            actor,
            "credentials_rotated" if stored.replaced else "credentials_stored",
            target=f"{venue}/{label}",
            details={
                "credential_id": stored.metadata.id,
                "key_id": stored.metadata.key_id,
                "key_version": stored.metadata.key_version,
                "status": status.value,
            },
        )
        return stored


async def _trip_for_withdrawals(
    sessions: async_sessionmaker[AsyncSession],
    actor: str,
    scope: ClientScope,
    target: str,
    answer: KeyPermissions,
    refused: KeyPermissionError,
) -> None:
    """The client's kill switch and the audit entry of a key refused for withdrawals."""
    async with transaction(sessions) as session:
        await KillSwitchRepository(session, scope).trip(
            Guard.KEY_PERMISSIONS.value, str(refused), int(time.time() * 1000)
        )
        await AuditRepository(session, scope).record(
            actor, "credentials_refused_withdraw", target=target, details=answer.snapshot()
        )
