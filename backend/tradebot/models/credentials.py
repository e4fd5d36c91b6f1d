"""Tables of encrypted exchange keys and of the master key versions that seal them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from tradebot.kit.clock import utcnow


class CredentialStatus(StrEnum):
    ACTIVE = "active"
    """Checked against the exchange when stored: trading allowed, withdrawals off."""
    UNVERIFIED = "unverified"
    """Stored with the exchange check skipped: good for paper only, refused for live runs."""
    REVOKED = "revoked"


class ClientApiCredential(SQLModel, table=True):
    """One exchange key of one client. Only ``key_id_last4`` of the key is ever readable.

    ``ciphertext`` seals the key, secret and passphrase under master key ``key_version`` with
    the associated data (client_id, exchange, id, key_version): copied into any other row it
    does not decrypt.
    """

    __tablename__ = "client_api_credentials"
    __table_args__ = (
        UniqueConstraint("client_id", "exchange", "label", name="uq_client_api_credentials_label"),
    )

    id: str = Field(primary_key=True, max_length=32)
    client_id: str = Field(foreign_key="clients.id", index=True, max_length=64)
    exchange: str = Field(max_length=32)
    label: str = Field(default="main", max_length=64)
    key_id_last4: str = Field(default="", max_length=4)
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    nonce: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_version: int
    permissions: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    """What the exchange said about the key when it was stored (withdraw, trade...)."""
    status: str = Field(default=CredentialStatus.UNVERIFIED.value, max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    rotated_at: datetime | None = None
    """When the key itself was last replaced (a new ``store-credentials`` for the label)."""

    def __repr__(self) -> str:
        # SQLModel's repr would print the ciphertext bytes; keep logs to the metadata.
        return (
            f"ClientApiCredential(id={self.id!r}, client_id={self.client_id!r}, "
            f"exchange={self.exchange!r}, label={self.label!r}, key_version={self.key_version})"
        )


class MasterKeyMeta(SQLModel, table=True):
    """One version of the master key: how to derive it and a check value, never the key.

    The current version is the one not retired. ``check_*`` is a constant sealed under the key,
    so a wrong ``CLIENT_MASTER_KEY`` is recognised before anything is read or written.
    """

    __tablename__ = "master_key_meta"

    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    kdf: str = Field(max_length=16)
    """``raw`` (32 bytes given in base64 or hex) or ``argon2id`` (a passphrase)."""
    kdf_params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    check_nonce: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    check_ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    retired_at: datetime | None = None
