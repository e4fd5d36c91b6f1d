"""What leaves the credentials package: decrypted keys (masked) and metadata (never a secret)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from tradebot.kit.secrets import Secret, held
from tradebot.models.credentials import ClientApiCredential


@dataclass(frozen=True)
class ExchangeCredentials:
    """A decrypted exchange key; every field prints as ``***``."""

    api_key: Secret
    secret: Secret
    passphrase: Secret | None = None

    def held(self) -> AbstractContextManager[None]:
        """Masks these values in every log line while an exchange client holds them.

        For verified keys only (read back from an active row): never for a key being checked.
        """
        return held(self.api_key, self.secret, self.passphrase)

    def to_plaintext(self) -> dict[str, str]:
        """The mapping that gets encrypted (and only that)."""
        plain = {"api_key": self.api_key.reveal(), "secret": self.secret.reveal()}
        if self.passphrase is not None:
            plain["passphrase"] = self.passphrase.reveal()
        return plain

    @classmethod
    def from_plaintext(cls, plain: dict[str, str]) -> ExchangeCredentials:
        passphrase = plain.get("passphrase")
        return cls(
            api_key=Secret(plain["api_key"]),
            secret=Secret(plain["secret"]),
            passphrase=Secret(passphrase) if passphrase is not None else None,
        )


class CredentialMetadata(BaseModel):
    """Everything about a stored key that may be shown: no key, no secret, no ciphertext."""

    id: str
    client_id: str
    exchange: str
    label: str
    key_id: str
    """``****`` and the last 4 characters of the API key id."""
    key_version: int
    status: str
    permissions: dict[str, Any]
    created_at: datetime
    rotated_at: datetime | None

    @classmethod
    def of(cls, row: ClientApiCredential) -> CredentialMetadata:
        return cls(
            id=row.id,
            client_id=row.client_id,
            exchange=row.exchange,
            label=row.label,
            key_id=f"****{row.key_id_last4}",
            key_version=row.key_version,
            status=row.status,
            permissions=row.permissions,
            created_at=row.created_at,
            rotated_at=row.rotated_at,
        )
