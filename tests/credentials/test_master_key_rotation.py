"""``rotate-master-key``: every row re-sealed in one transaction, or none of them."""

from __future__ import annotations

import base64
import secrets

import pytest
from sqlalchemy import select

from tests.clients.factories import make_client, snapshot
from tradebot.admin.service import ClientAdmin
from tradebot.credentials.keyring import NoMasterKeyError, WrongMasterKeyError, open_keyring
from tradebot.credentials.service import CredentialService
from tradebot.db import create_engine, session_factory, transaction
from tradebot.errors import BadInputError
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.kit.secrets import Secret
from tradebot.models.clients import AuditLog
from tradebot.models.credentials import ClientApiCredential


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
async def keyed(migrated_pg_url):
    """(sessions, old key, {client: secret}) with keys of two clients on two exchanges."""
    engine = create_engine(migrated_pg_url)
    sessions = session_factory(engine)
    old = _key()
    admin = ClientAdmin(sessions, "tester")
    stored: dict[tuple[str, str], str] = {}
    for _ in range(2):
        client = await make_client(sessions)
        for exchange in ("binance", "okx"):
            secret = f"secret-{client}-{exchange}"
            await admin.store_credentials(
                client, exchange, f"KEY{secrets.token_hex(8)}", secret, None, Secret(old), None
            )
            stored[client, exchange] = secret
    yield sessions, old, stored
    await engine.dispose()


async def _all_open_with(sessions, key: str, stored) -> None:
    for (client, exchange), secret in stored.items():
        scope = ClientScope.of(client)
        async with client_transaction(sessions, scope) as session:
            keyring = await open_keyring(session, Secret(key))
            _, credentials = await CredentialService(session, scope).decrypt(keyring, exchange)
        assert credentials.secret.reveal() == secret


async def _versions(sessions) -> set[int]:
    async with transaction(sessions) as session:
        return set((await session.execute(select(ClientApiCredential.key_version))).scalars())


async def test_rotation_reseals_every_row_under_the_new_key(keyed):
    sessions, old, stored = keyed
    new = _key()
    result = await ClientAdmin(sessions, "ops").rotate_master_key(Secret(old), Secret(new))
    assert (result.from_version, result.to_version, result.credentials) == (1, 2, 4)
    assert await _versions(sessions) == {2}
    await _all_open_with(sessions, new, stored)
    with pytest.raises(WrongMasterKeyError):
        await _all_open_with(sessions, old, stored)
    async with transaction(sessions) as session:
        entry = (
            await session.execute(select(AuditLog).where(AuditLog.action == "master_key_rotated"))
        ).scalar_one()
    assert (entry.actor, entry.client_id) == ("ops", None)
    assert entry.details == {"from_version": 1, "to_version": 2, "credentials": 4}


async def test_rotation_to_a_passphrase_and_back(keyed):
    sessions, old, stored = keyed
    passphrase = "the operators new passphrase"
    admin = ClientAdmin(sessions, "ops")
    await admin.rotate_master_key(Secret(old), Secret(passphrase))
    await _all_open_with(sessions, passphrase, stored)
    newest = _key()
    await admin.rotate_master_key(Secret(passphrase), Secret(newest))
    await _all_open_with(sessions, newest, stored)
    assert await _versions(sessions) == {3}


async def test_crash_midway_leaves_every_row_readable_by_the_old_key(keyed):
    sessions, old, stored = keyed
    before = await snapshot(sessions)

    def crash_after_two(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt(f"simulated crash after 2 of {total} rows")

    with pytest.raises(KeyboardInterrupt):
        await ClientAdmin(sessions, "ops").rotate_master_key(
            Secret(old), Secret(_key()), progress=crash_after_two
        )
    assert await snapshot(sessions) == before
    await _all_open_with(sessions, old, stored)


async def test_rotation_with_a_wrong_current_key_changes_nothing(keyed):
    sessions, _, _ = keyed
    before = await snapshot(sessions)
    with pytest.raises(WrongMasterKeyError, match="nothing was changed"):
        await ClientAdmin(sessions, "ops").rotate_master_key(Secret(_key()), Secret(_key()))
    assert await snapshot(sessions) == before


async def test_rotation_to_the_same_key_or_without_one_is_refused(keyed):
    sessions, old, _ = keyed
    before = await snapshot(sessions)
    admin = ClientAdmin(sessions, "ops")
    with pytest.raises(BadInputError, match="is the current master key"):
        await admin.rotate_master_key(Secret(old), Secret(old))
    with pytest.raises(BadInputError, match="NEW_CLIENT_MASTER_KEY is not set"):
        await admin.rotate_master_key(Secret(old), None)
    assert await snapshot(sessions) == before


async def test_rotation_before_any_key_is_stored_is_refused(migrated_pg_url):
    engine = create_engine(migrated_pg_url)
    try:
        with pytest.raises(NoMasterKeyError, match="nothing to rotate"):
            await ClientAdmin(session_factory(engine), "ops").rotate_master_key(
                Secret(_key()), Secret(_key())
            )
    finally:
        await engine.dispose()
