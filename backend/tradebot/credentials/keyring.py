"""The master key: parsed from ``CLIENT_MASTER_KEY``, checked against its stored version.

Each master key version has a ``master_key_meta`` row: how the key is derived (raw bytes, or
Argon2id with the stored salt and costs) and a constant sealed under it. Opening the keyring
unseals that constant, so a wrong key is a clear error before any row is read or written.
Exactly one version is current (not retired); every credential row records the version that
sealed it, and a rotation moves all of them in the transaction that retires the old version.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tradebot.config import Settings
from tradebot.errors import ConfigError, TradeBotError
from tradebot.kit.crypto import (
    Argon2Params,
    DecryptionError,
    KeyMaterial,
    SymmetricKey,
    associated_data,
    parse_master_key,
)
from tradebot.kit.secrets import Secret
from tradebot.models.credentials import MasterKeyMeta

_CHECK = b"tradebot master key check"


class WrongMasterKeyError(TradeBotError):
    """The master key given does not open the stored key version."""


class NoMasterKeyError(TradeBotError):
    """No master key version exists yet (nothing has been encrypted)."""


@dataclass(frozen=True)
class Keyring:
    """The current master key version, opened."""

    version: int
    key: SymmetricKey

    def seal(self, plaintext: bytes, *context: str) -> tuple[bytes, bytes]:
        """``(nonce, ciphertext)`` bound to ``context`` and this key version."""
        return self.key.seal(plaintext, associated_data(*context, self.version))

    def open(self, nonce: bytes, ciphertext: bytes, version: int, *context: str) -> bytes:
        if version != self.version:
            raise WrongMasterKeyError(
                f"sealed under master key version {version}; the key given is version "
                f"{self.version}"
            )
        return self.key.open(nonce, ciphertext, associated_data(*context, version))


def _check_context(version: int) -> bytes:
    return associated_data("master_key_meta", version)


def configured_master_key(settings: Settings) -> Secret | None:
    """``CLIENT_MASTER_KEY`` from the settings, as a ``Secret`` (``None`` when unset)."""
    value = settings.CLIENT_MASTER_KEY
    return Secret(value.get_secret_value()) if value is not None else None


def require_master_key(value: Secret | None, variable: str = "CLIENT_MASTER_KEY") -> KeyMaterial:
    if value is None or not value:
        raise ConfigError(f"{variable} is not set (base64 or hex of 32 bytes, or a passphrase)")
    return parse_master_key(value, variable)


def unlock(material: KeyMaterial, meta: MasterKeyMeta) -> Keyring:
    """Open ``meta``'s version with ``material``, or ``WrongMasterKeyError``."""
    wrong = WrongMasterKeyError(
        f"CLIENT_MASTER_KEY does not open master key version {meta.version}; nothing was changed"
    )
    if material.kdf != meta.kdf:
        raise wrong
    if material.key is not None:
        key = material.key
    else:
        assert material.passphrase is not None
        key = Argon2Params.from_json(meta.kdf_params).derive(material.passphrase)
    try:
        key.open(meta.check_nonce, meta.check_ciphertext, _check_context(meta.version))
    except DecryptionError:
        raise wrong from None
    return Keyring(meta.version, key)


def new_version(material: KeyMaterial, version: int) -> tuple[MasterKeyMeta, Keyring]:
    """The meta row and keyring of a new version (a passphrase gets a fresh salt)."""
    if material.key is not None:
        key, params = material.key, {}
    else:
        assert material.passphrase is not None
        argon = Argon2Params.fresh()
        key, params = argon.derive(material.passphrase), argon.to_json()
    nonce, check = key.seal(_CHECK, _check_context(version))
    meta = MasterKeyMeta(
        version=version,
        kdf=material.kdf,
        kdf_params=params,
        check_nonce=nonce,
        check_ciphertext=check,
    )
    return meta, Keyring(version, key)


async def current_meta(session: AsyncSession, *, lock: bool = False) -> MasterKeyMeta | None:
    """The current version's row. ``lock`` takes a share lock (PostgreSQL) so a rotation
    cannot retire it until this transaction ends: what is sealed here stays readable."""
    query = (
        select(MasterKeyMeta)
        .where(MasterKeyMeta.retired_at.is_(None))  # type: ignore[union-attr]
        .order_by(MasterKeyMeta.version.desc())  # type: ignore[attr-defined]
        .limit(1)
    )
    if lock:
        query = query.with_for_update(read=True)
    return (await session.execute(query)).scalar_one_or_none()


async def open_keyring(session: AsyncSession, master_key: Secret | None) -> Keyring:
    """The current version opened with ``master_key`` (for reading)."""
    material = require_master_key(master_key)
    meta = await current_meta(session)
    if meta is None:
        raise NoMasterKeyError("no exchange keys have been stored yet (no master key version)")
    return unlock(material, meta)


async def open_keyring_for_writing(session: AsyncSession, master_key: Secret | None) -> Keyring:
    """The current version, share-locked; the first ever write creates version 1."""
    material = require_master_key(master_key)
    meta = await current_meta(session, lock=True)
    if meta is not None:
        return unlock(material, meta)
    if await session.get(MasterKeyMeta, 1) is not None:
        # Version 1 exists but is retired and nothing is current: a rotation committed while
        # this transaction waited. Sealing under a guess would strand the row.
        raise WrongMasterKeyError(
            "the master key was rotated meanwhile; run again with the new key"
        )
    meta, keyring = new_version(material, 1)
    session.add(meta)
    await session.flush()
    return keyring
