"""Authenticated encryption of small secrets, and master keys from what an operator can type.

Encryption is XChaCha20-Poly1305 (libsodium's AEAD through PyNaCl) with a fresh random 24-byte
nonce per call. The associated data binds a ciphertext to its context (for exchange keys: the
client, exchange, credential id and key version), so a ciphertext copied into another row or
another tenant fails to decrypt instead of decrypting to the wrong owner's key.

A master key is given as 32 bytes in base64 or hex, or as a passphrase, which Argon2id turns
into 32 bytes with a stored random salt and stored cost parameters.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any, Final, final

from argon2.low_level import Type, hash_secret_raw
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
)
from nacl.exceptions import CryptoError

from tradebot.errors import ConfigError, TradeBotError
from tradebot.kit.secrets import MASK, Secret

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 24
MIN_PASSPHRASE: Final = 16
_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")


class DecryptionError(TradeBotError):
    """A ciphertext did not authenticate: wrong key, or not the row it was sealed for."""


@final
class SymmetricKey:
    """32 key bytes; prints as ``***``."""

    __slots__ = ("_bytes",)

    def __init__(self, raw: bytes) -> None:
        if len(raw) != KEY_BYTES:
            raise ValueError(f"a key is {KEY_BYTES} bytes")
        self._bytes = raw

    def same_as(self, other: SymmetricKey) -> bool:
        return secrets.compare_digest(self._bytes, other._bytes)

    def seal(self, plaintext: bytes, associated_data: bytes) -> tuple[bytes, bytes]:
        """``(nonce, ciphertext)`` of ``plaintext`` bound to ``associated_data``."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = crypto_aead_xchacha20poly1305_ietf_encrypt(
            plaintext, associated_data, nonce, self._bytes
        )
        return nonce, sealed

    def open(self, nonce: bytes, ciphertext: bytes, associated_data: bytes) -> bytes:
        """The plaintext, or ``DecryptionError`` if key, nonce or associated data differ."""
        try:
            return bytes(
                crypto_aead_xchacha20poly1305_ietf_decrypt(
                    ciphertext, associated_data, nonce, self._bytes
                )
            )
        except (CryptoError, TypeError, ValueError):
            raise DecryptionError("ciphertext does not decrypt with this key and context") from None

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a key cannot be pickled")


def associated_data(*parts: str | int) -> bytes:
    """An unambiguous encoding of the context a ciphertext is bound to."""
    return json.dumps(list(parts), separators=(",", ":")).encode()


@dataclass(frozen=True)
class Argon2Params:
    """How a passphrase became a key: stored next to the key version, never secret."""

    salt: bytes
    time_cost: int = 3
    memory_cost_kib: int = 64 * 1024
    parallelism: int = 4

    @classmethod
    def fresh(cls) -> Argon2Params:
        return cls(salt=secrets.token_bytes(16))

    def to_json(self) -> dict[str, Any]:
        return {
            "salt": base64.b64encode(self.salt).decode(),
            "time_cost": self.time_cost,
            "memory_cost_kib": self.memory_cost_kib,
            "parallelism": self.parallelism,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Argon2Params:
        return cls(
            salt=base64.b64decode(data["salt"]),
            time_cost=int(data["time_cost"]),
            memory_cost_kib=int(data["memory_cost_kib"]),
            parallelism=int(data["parallelism"]),
        )

    def derive(self, passphrase: Secret) -> SymmetricKey:
        return SymmetricKey(
            hash_secret_raw(
                passphrase.reveal().encode(),
                self.salt,
                time_cost=self.time_cost,
                memory_cost=self.memory_cost_kib,
                parallelism=self.parallelism,
                hash_len=KEY_BYTES,
                type=Type.ID,
            )
        )


@dataclass(frozen=True)
class KeyMaterial:
    """A master key as given: 32 raw bytes (``key``), or a passphrase still to be derived."""

    key: SymmetricKey | None = None
    passphrase: Secret | None = None

    @property
    def kdf(self) -> str:
        return "raw" if self.key is not None else "argon2id"


def parse_master_key(value: Secret, variable: str = "CLIENT_MASTER_KEY") -> KeyMaterial:
    """Read a master key: 64 hex digits, base64 of 32 bytes, or a passphrase (>= 16 chars).

    Something shaped like hex or padded base64 but of the wrong length is refused rather than
    quietly taken for a passphrase. Messages never include the value.
    """
    text = value.reveal().strip()
    if not text:
        raise ConfigError(f"{variable}: empty")
    if _HEX.fullmatch(text) and len(text) % 2 == 0 and len(text) >= 32:
        if len(text) != 2 * KEY_BYTES:
            raise ConfigError(f"{variable}: a hex key must be {2 * KEY_BYTES} hex digits")
        return KeyMaterial(key=SymmetricKey(bytes.fromhex(text)))
    decoded = _base64(text)
    if decoded is not None and (len(decoded) == KEY_BYTES or text.endswith("=")):
        if len(decoded) != KEY_BYTES:
            raise ConfigError(f"{variable}: a base64 key must decode to {KEY_BYTES} bytes")
        return KeyMaterial(key=SymmetricKey(decoded))
    if len(text) < MIN_PASSPHRASE:
        raise ConfigError(
            f"{variable}: not a 32-byte key in base64 or hex, and too short for a passphrase "
            f"(at least {MIN_PASSPHRASE} characters)"
        )
    return KeyMaterial(passphrase=Secret(text))


def _base64(text: str) -> bytes | None:
    if not _BASE64.fullmatch(text):
        return None
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
