"""Sealing and unsealing one client's exchange keys.

A row's ciphertext is bound to (client_id, exchange, credential id, key version): the
associated data of the AEAD. Copy it into another row, another client or another version and
it does not decrypt: the error names the row, never the key.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tradebot.credentials.keyring import Keyring
from tradebot.credentials.repository import CredentialRepository
from tradebot.credentials.schemas import CredentialMetadata, ExchangeCredentials
from tradebot.errors import BadInputError, NotFoundError, TradeBotError
from tradebot.kit.clock import utcnow
from tradebot.kit.crypto import DecryptionError
from tradebot.kit.scope import ClientScope
from tradebot.kit.secrets import Secret
from tradebot.kit.text import has_control_characters
from tradebot.models.credentials import ClientApiCredential, CredentialStatus

_EXCHANGE = re.compile(r"[a-z][a-z0-9]{1,31}")
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class CredentialDecryptionError(TradeBotError):
    """A stored ciphertext does not open for its own row."""


def exchange_id(value: str) -> str:
    """The ccxt id of an exchange (``binance``, ``okx``...), lower case."""
    name = value.strip().lower()
    if not _EXCHANGE.fullmatch(name):
        raise BadInputError(f"exchange {value!r}: use the exchange's ccxt id, e.g. binance")
    return name


def label_name(value: str) -> str:
    if not _LABEL.fullmatch(value):
        raise BadInputError(f"label {value!r}: use 1-64 letters, digits, '.', '_' or '-'")
    return value


def new_credentials(api_key: str, secret: str, passphrase: str | None) -> ExchangeCredentials:
    """Credentials from user input: the key and the secret must not be empty."""
    for name, value in (("api key", api_key), ("api secret", secret)):
        if not value.strip():
            raise BadInputError(f"the {name} is empty")
    if passphrase is not None and not passphrase.strip():
        raise BadInputError("the passphrase is empty (leave it out if the exchange has none)")
    for name, given in (("api key", api_key), ("api secret", secret), ("passphrase", passphrase)):
        # Inside an HTTP header of every request to the exchange, CR/LF would split it.
        if given is not None and has_control_characters(given.strip()):
            raise BadInputError(f"the {name} holds control characters (NUL, CR, LF...)")
    return ExchangeCredentials(
        api_key=Secret(api_key.strip()),
        secret=Secret(secret.strip()),
        passphrase=Secret(passphrase.strip()) if passphrase is not None else None,
    )


def _context(row: ClientApiCredential) -> tuple[str, str, str]:
    return (row.client_id, row.exchange, row.id)


def seal_into(row: ClientApiCredential, keyring: Keyring, credentials: ExchangeCredentials) -> None:
    """Encrypt ``credentials`` into ``row`` under ``keyring``'s version (fresh nonce)."""
    plaintext = json.dumps(credentials.to_plaintext()).encode()
    row.nonce, row.ciphertext = keyring.seal(plaintext, *_context(row))
    row.key_version = keyring.version
    row.key_id_last4 = credentials.api_key.last4()


def open_row(row: ClientApiCredential, keyring: Keyring) -> ExchangeCredentials:
    """Decrypt ``row``; a ciphertext that is not this row's is ``CredentialDecryptionError``."""
    try:
        plaintext = keyring.open(row.nonce, row.ciphertext, row.key_version, *_context(row))
    except DecryptionError:
        raise CredentialDecryptionError(
            f"credentials {row.id} ({row.exchange}/{row.label}) of client {row.client_id!r} do "
            "not decrypt: the ciphertext was not sealed for this row"
        ) from None
    return ExchangeCredentials.from_plaintext(json.loads(plaintext))


@dataclass(frozen=True)
class StoredCredentials:
    metadata: CredentialMetadata
    replaced: bool
    """True when an existing key of the same exchange and label was replaced."""


class CredentialService:
    """One client's exchange keys: store (sealed), list (metadata only), decrypt."""

    def __init__(self, session: AsyncSession, scope: ClientScope) -> None:
        self.scope = scope
        self.repo = CredentialRepository(session, scope)

    async def store(
        self,
        keyring: Keyring,
        exchange: str,
        label: str,
        credentials: ExchangeCredentials,
        permissions: dict[str, Any],
        status: CredentialStatus,
    ) -> StoredCredentials:
        row = await self.repo.by_label(exchange, label)
        replaced = row is not None
        if row is None:
            row = ClientApiCredential(
                id=uuid.uuid4().hex,
                client_id=self.scope.client_id,
                exchange=exchange,
                label=label,
                ciphertext=b"",
                nonce=b"",
                key_version=keyring.version,
            )
        else:
            row.rotated_at = utcnow()
        seal_into(row, keyring, credentials)
        row.permissions = permissions
        row.status = status.value
        await self.repo.add(row)
        return StoredCredentials(CredentialMetadata.of(row), replaced)

    async def metadata(self) -> Sequence[CredentialMetadata]:
        return [CredentialMetadata.of(row) for row in await self.repo.all()]

    async def find(self, exchange: str, label: str = "main") -> ClientApiCredential | None:
        return await self.repo.by_label(exchange, label)

    async def decrypt(
        self, keyring: Keyring, exchange: str, label: str = "main"
    ) -> tuple[CredentialMetadata, ExchangeCredentials]:
        row = await self.repo.by_label(exchange, label)
        if row is None:
            raise NotFoundError(
                f"client {self.scope.client_id!r} has no stored {exchange} keys (label {label!r})"
            )
        return CredentialMetadata.of(row), open_row(row, keyring)
