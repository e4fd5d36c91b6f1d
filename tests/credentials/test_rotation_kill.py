"""A rotation process killed (SIGKILL) in the middle of re-sealing: every row still opens with
the old key, and a second rotation then completes."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import signal
import subprocess
import sys
import time

import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tests.clients.factories import make_client, snapshot
from tradebot.admin.service import ClientAdmin
from tradebot.credentials.keyring import open_keyring
from tradebot.credentials.service import CredentialService
from tradebot.db import create_engine, session_factory, transaction
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.kit.secrets import Secret
from tradebot.models.credentials import ClientApiCredential


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


async def _seed(url: str, key: str) -> dict[str, tuple[str, str]]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    stored = {}
    try:
        for exchange in ("binance", "okx", "bybit"):
            client = await make_client(sessions)
            secret = f"secret-of-{client}"
            await ClientAdmin(sessions, "t").store_credentials(
                client, exchange, f"KEY{secrets.token_hex(8)}", secret, None, Secret(key), None
            )
            stored[client] = exchange, secret
    finally:
        await engine.dispose()
    return stored


async def _open_all(url: str, key: str, stored: dict[str, tuple[str, str]]) -> tuple:
    """(client -> (exchange, secret) opened with ``key``, key versions, table snapshot)."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    opened = {}
    try:
        for client, (exchange, _) in stored.items():
            scope = ClientScope.of(client)
            async with client_transaction(sessions, scope) as session:
                keyring = await open_keyring(session, Secret(key))
                _, keys = await CredentialService(session, scope).decrypt(keyring, exchange)
            opened[client] = exchange, keys.secret.reveal()
        async with transaction(sessions) as session:
            versions = set(
                (await session.execute(select(ClientApiCredential.key_version))).scalars()
            )
        state = await snapshot(sessions)
    finally:
        await engine.dispose()
    return opened, versions, state


def _wait_for(conninfo: str, query: str, params: tuple, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if conn.execute(query, params).fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {query}")


def test_rotation_killed_midway_leaves_every_row_on_the_old_key(migrated_pg_url, tmp_path):
    old, new = _key(), _key()
    stored = asyncio.run(_seed(migrated_pg_url, old))
    before = asyncio.run(_open_all(migrated_pg_url, old, stored))
    url = make_url(migrated_pg_url)
    conninfo = f"host={url.host} port={url.port} user={url.username} dbname={url.database}"
    if url.password:
        conninfo += f" password={url.password}"
    with psycopg.connect(conninfo) as blocker:
        # Hold the last row (rotation re-seals in id order): the process updates the others,
        # then waits here, mid-transaction, until it is killed.
        blocker.execute("SELECT id FROM client_api_credentials ORDER BY id DESC LIMIT 1 FOR UPDATE")
        env = {
            **os.environ,
            "PG_URL": migrated_pg_url,
            "CLIENT_MASTER_KEY": old,
            "NEW_CLIENT_MASTER_KEY": new,
            "DATA_DIR": str(tmp_path),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "tradebot.cli.main", "client-admin", "rotate-master-key"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            _wait_for(
                conninfo,
                "SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = %s "
                "AND wait_event_type = 'Lock' AND query LIKE 'UPDATE client_api_credentials%%'",
                (url.database,),
            )
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        blocker.rollback()
    _wait_for(
        conninfo,
        "SELECT count(*) = 1 FROM pg_stat_activity WHERE datname = %s",
        (url.database,),
    )
    assert process.returncode == -signal.SIGKILL
    assert asyncio.run(_open_all(migrated_pg_url, old, stored)) == before
    opened, versions, _ = before
    assert versions == {1}
    assert opened == stored

    async def rotate_again() -> None:
        engine = create_engine(migrated_pg_url)
        try:
            await ClientAdmin(session_factory(engine), "t").rotate_master_key(
                Secret(old), Secret(new)
            )
        finally:
            await engine.dispose()

    asyncio.run(rotate_again())
    opened, versions, _ = asyncio.run(_open_all(migrated_pg_url, new, stored))
    assert (opened, versions) == (stored, {2})
