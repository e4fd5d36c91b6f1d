"""Exchange keys sealed per row: round trip, row binding, wrong master keys, passphrases."""

from __future__ import annotations

import base64
import secrets

import pytest
from sqlalchemy import select, text, update

from tests.clients.factories import make_client, snapshot
from tradebot.admin.service import ClientAdmin
from tradebot.credentials.keyring import WrongMasterKeyError, open_keyring
from tradebot.credentials.service import CredentialDecryptionError, CredentialService
from tradebot.db import create_engine, session_factory, transaction
from tradebot.errors import BadInputError, NotFoundError
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.kit.secrets import Secret
from tradebot.models.clients import AuditLog
from tradebot.models.credentials import ClientApiCredential, MasterKeyMeta

API_KEY = "AKIAEXAMPLEKEY0000wxyz"
API_SECRET = "s3cr3t-value-that-must-not-leak"


async def _decrypt(sessions, client: str, key: str, exchange: str = "binance"):
    scope = ClientScope.of(client)
    async with client_transaction(sessions, scope) as session:
        keyring = await open_keyring(session, Secret(key))
        return await CredentialService(session, scope).decrypt(keyring, exchange)


async def _store(sessions, client, key, exchange="binance", api_key=API_KEY, secret=API_SECRET):
    return await ClientAdmin(sessions, "tester").store_credentials(
        client, exchange, api_key, secret, None, Secret(key), check=None
    )


async def test_stored_keys_decrypt_to_what_was_given_and_show_only_last4(pg_sessions, master_key):
    client = await make_client(pg_sessions)
    stored = await ClientAdmin(pg_sessions, "tester").store_credentials(
        client, "OKX", API_KEY, API_SECRET, "pass-phrase", Secret(master_key), check=None
    )
    assert stored.metadata.key_id == "****wxyz"
    assert stored.metadata.status == "unverified"
    assert not stored.replaced
    metadata, credentials = await _decrypt(pg_sessions, client, master_key, "okx")
    assert credentials.api_key.reveal() == API_KEY
    assert credentials.secret.reveal() == API_SECRET
    assert credentials.passphrase is not None
    assert credentials.passphrase.reveal() == "pass-phrase"
    shown = repr(credentials) + metadata.model_dump_json()
    assert API_KEY not in shown
    assert API_SECRET not in shown
    async with transaction(pg_sessions) as session:
        row = (
            await session.execute(
                select(ClientApiCredential).where(ClientApiCredential.client_id == client)
            )
        ).scalar_one()
    assert API_SECRET.encode() not in row.ciphertext
    assert API_SECRET not in repr(row)


async def test_ciphertext_copied_into_another_tenants_row_does_not_decrypt(pg_sessions, master_key):
    mine, theirs = await make_client(pg_sessions), await make_client(pg_sessions)
    await _store(pg_sessions, mine, master_key)
    await _store(pg_sessions, theirs, master_key, api_key="THEIRKEY00000000zzzz")
    async with transaction(pg_sessions) as session:
        source = (
            await session.execute(
                select(ClientApiCredential).where(ClientApiCredential.client_id == mine)
            )
        ).scalar_one()
        await session.execute(
            update(ClientApiCredential)
            .where(ClientApiCredential.client_id == theirs)
            .values(ciphertext=source.ciphertext, nonce=source.nonce)
        )
    with pytest.raises(CredentialDecryptionError, match="not sealed for this row") as error:
        await _decrypt(pg_sessions, theirs, master_key)
    assert API_SECRET not in str(error.value)
    _, still_mine = await _decrypt(pg_sessions, mine, master_key)
    assert still_mine.secret.reveal() == API_SECRET


async def test_wrong_master_key_is_a_clear_error_that_changes_nothing(pg_sessions, master_key):
    client = await make_client(pg_sessions)
    await _store(pg_sessions, client, master_key)
    before = await snapshot(pg_sessions)
    wrong = base64.b64encode(secrets.token_bytes(32)).decode()
    with pytest.raises(WrongMasterKeyError, match="does not open master key version"):
        await _store(pg_sessions, client, wrong, api_key="ANOTHERKEY000000aaaa")
    with pytest.raises(WrongMasterKeyError):
        await _decrypt(pg_sessions, client, wrong)
    assert await snapshot(pg_sessions) == before


async def test_storing_the_same_label_again_replaces_the_key_and_audits_it(pg_sessions, master_key):
    client = await make_client(pg_sessions)
    first = await _store(pg_sessions, client, master_key)
    second = await _store(pg_sessions, client, master_key, api_key="NEWKEY0000000000nnnn")
    assert second.replaced
    assert second.metadata.id == first.metadata.id
    assert second.metadata.rotated_at is not None
    _, credentials = await _decrypt(pg_sessions, client, master_key)
    assert credentials.api_key.reveal() == "NEWKEY0000000000nnnn"
    async with transaction(pg_sessions) as session:
        actions = (
            await session.execute(
                select(AuditLog.action, AuditLog.actor, AuditLog.target)
                .where(AuditLog.client_id == client)
                .order_by(AuditLog.id)
            )
        ).all()
    assert [tuple(a) for a in actions] == [
        ("credentials_stored", "tester", "binance/main"),
        ("credentials_rotated", "tester", "binance/main"),
    ]


@pytest.mark.parametrize(
    ("api_key", "secret", "message"),
    [("", API_SECRET, "api key is empty"), (API_KEY, "  ", "api secret is empty")],
)
async def test_empty_key_or_secret_is_refused_and_changes_nothing(
    pg_sessions, master_key, api_key, secret, message
):
    client = await make_client(pg_sessions)
    before = await snapshot(pg_sessions)
    with pytest.raises(BadInputError, match=message):
        await _store(pg_sessions, client, master_key, api_key=api_key, secret=secret)
    assert await snapshot(pg_sessions) == before


async def test_keys_for_an_unknown_client_are_refused(pg_sessions, master_key):
    before = await snapshot(pg_sessions)
    with pytest.raises(NotFoundError, match="client 'nobody-here' not found"):
        await _store(pg_sessions, "nobody-here", master_key)
    assert await snapshot(pg_sessions) == before


async def test_passphrase_master_key_is_derived_with_a_stored_salt(migrated_pg_url):
    engine = create_engine(migrated_pg_url)
    sessions = session_factory(engine)
    try:
        client = await make_client(sessions)
        passphrase = "a long operator passphrase"
        await _store(sessions, client, passphrase)
        async with transaction(sessions) as session:
            meta = (await session.execute(select(MasterKeyMeta))).scalar_one()
        assert meta.kdf == "argon2id"
        assert len(base64.b64decode(meta.kdf_params["salt"])) == 16
        assert passphrase not in str(meta.kdf_params)
        _, credentials = await _decrypt(sessions, client, passphrase)
        assert credentials.secret.reveal() == API_SECRET
        for wrong in ("a long operator passphrasE", base64.b64encode(bytes(32)).decode()):
            with pytest.raises(WrongMasterKeyError):
                await _decrypt(sessions, client, wrong)
    finally:
        await engine.dispose()


async def test_sqlite_stores_and_decrypts_the_same_way(sqlite_url, master_key):
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    try:
        await _store(sessions, "default", master_key)
        _, credentials = await _decrypt(sessions, "default", master_key)
        assert credentials.api_key.reveal() == API_KEY
        async with transaction(sessions) as session:
            count = await session.execute(text("SELECT count(*) FROM audit_log"))
            assert count.scalar_one() == 1
    finally:
        await engine.dispose()
