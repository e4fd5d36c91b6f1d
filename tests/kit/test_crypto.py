"""Master key parsing, Argon2id derivation and the AEAD seal (no database)."""

from __future__ import annotations

import base64
import pickle

import pytest

from tradebot.errors import ConfigError
from tradebot.kit.crypto import (
    Argon2Params,
    DecryptionError,
    SymmetricKey,
    associated_data,
    parse_master_key,
)
from tradebot.kit.secrets import Secret

RAW = bytes(range(32))
CHEAP = {"time_cost": 1, "memory_cost_kib": 8, "parallelism": 1}


@pytest.mark.parametrize(
    "text",
    [
        base64.b64encode(RAW).decode(),
        base64.b64encode(RAW).decode().rstrip("="),
        base64.urlsafe_b64encode(RAW).decode(),
        RAW.hex(),
        RAW.hex().upper(),
        f"  {RAW.hex()}\n",
    ],
)
def test_master_key_in_base64_or_hex_is_the_raw_32_bytes(text):
    material = parse_master_key(Secret(text))
    assert material.kdf == "raw"
    assert material.key is not None
    assert material.key.same_as(SymmetricKey(RAW))


def test_long_free_text_is_a_passphrase():
    material = parse_master_key(Secret("correct horse battery staple"))
    assert material.kdf == "argon2id"
    assert material.passphrase == Secret("correct horse battery staple")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("ab" * 20, "64 hex digits"),
        (base64.b64encode(RAW[:24]).decode() + "==", "32 bytes"),
        ("short pass", "at least 16 characters"),
    ],
)
def test_malformed_master_key_is_refused_without_echoing_it(text, message):
    with pytest.raises(ConfigError, match=message) as error:
        parse_master_key(Secret(text))
    assert str(error.value).startswith("CLIENT_MASTER_KEY: ")
    if text:
        assert text not in str(error.value)


def test_seal_uses_a_fresh_nonce_and_opens_only_in_its_context():
    key = SymmetricKey(RAW)
    context = associated_data("acme", "binance", "cred-1", 1)
    first, second = key.seal(b"secret", context), key.seal(b"secret", context)
    assert len(first[0]) == 24
    assert first[0] != second[0]
    assert first[1] != second[1]
    assert key.open(*first, context) == b"secret"
    for other in (
        associated_data("evil", "binance", "cred-1", 1),
        associated_data("acme", "binance", "cred-2", 1),
        associated_data("acme", "binance", "cred-1", 2),
    ):
        with pytest.raises(DecryptionError):
            key.open(*first, other)
    with pytest.raises(DecryptionError):
        SymmetricKey(bytes(32)).open(*first, context)


def test_associated_data_is_unambiguous():
    assert associated_data("a,b", "c") != associated_data("a", "b,c")


def test_argon2id_derivation_depends_on_passphrase_and_salt():
    params = Argon2Params(salt=b"s" * 16, **CHEAP)
    again = Argon2Params.from_json(params.to_json())
    one = params.derive(Secret("a passphrase of some length"))
    assert one.same_as(again.derive(Secret("a passphrase of some length")))
    assert not one.same_as(params.derive(Secret("another passphrase of length")))
    other_salt = Argon2Params(salt=b"t" * 16, **CHEAP)
    assert not one.same_as(other_salt.derive(Secret("a passphrase of some length")))


def test_secret_and_key_never_print_their_value():
    secret = Secret("api-secret-value-1234")
    key = SymmetricKey(RAW)
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret:>30}", repr(key), str(key)):
        assert "1234" not in shown
        assert "api-secret" not in shown
        assert shown.strip() == "***"
    assert secret.last4() == "1234"
    assert Secret("short").last4() == ""
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    with pytest.raises(TypeError):
        pickle.dumps(key)
