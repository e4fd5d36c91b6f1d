"""At DEBUG (our logs, the CLI's, SQL statements with their parameters), storing keys, rotating
the master key and building a live run configuration never print a secret."""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets

from sqlalchemy import update

from tradebot.cli.main import main
from tradebot.config import load_settings
from tradebot.db import create_engine, session_factory, transaction
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.models.credentials import ClientApiCredential
from tradebot.models.runs import RunMode
from tradebot.observability.logs import get_logger
from tradebot.runs.configuration import ClientConfigService

API_KEY = "LOGKEY-a8f3k2j4h5g6"
API_SECRET = "log-secret-q9w8e7r6t5"
PASSPHRASE = "log-passphrase-z1x2c3"


async def _live_config(url: str, master_key: str):
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        async with transaction(sessions) as session:
            await session.execute(update(ClientApiCredential).values(status="active"))
        scope = ClientScope.of("acme")
        async with client_transaction(sessions, scope) as session:
            settings = load_settings(CLIENT_MASTER_KEY=master_key)
            service = ClientConfigService(session, scope, settings)
            return await service.run_configuration(RunMode.LIVE, exchange="okx")
    finally:
        await engine.dispose()


def test_no_secret_reaches_logs_or_output_at_debug(migrated_pg_url, monkeypatch, caplog, capsys):
    old = base64.b64encode(secrets.token_bytes(32)).decode()
    new = "a brand new operator passphrase"
    monkeypatch.setenv("PG_URL", migrated_pg_url)
    monkeypatch.setenv("CLIENT_MASTER_KEY", old)
    admin = ["--log-level", "DEBUG", "client-admin"]
    assert main([*admin, "upsert-client", "--id", "acme", "--plan", "pro"]) == 0
    assert main([
        *admin, "store-credentials", "--id", "acme", "--exchange", "okx", "--api-key", API_KEY,
        "--api-secret", API_SECRET, "--passphrase", PASSPHRASE, "--skip-exchange-check",
    ]) == 0  # fmt: skip
    monkeypatch.setenv("NEW_CLIENT_MASTER_KEY", new)
    assert main([*admin, "rotate-master-key"]) == 0
    out, err = capsys.readouterr()
    logging.getLogger().addHandler(caplog.handler)  # the CLI replaced the root's handlers
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, "sqlalchemy.engine"):
        config = asyncio.run(_live_config(migrated_pg_url, new))
        credentials = config.credentials
        assert credentials is not None
        # A careless line that logs the revealed value while a client holds the verified key
        # (as a live run's venue does): the scrubber still masks it.
        with credentials.held():
            get_logger("careless").debug(
                "keys", value=credentials.secret.reveal(), config=repr(config)
            )
    assert credentials.passphrase is not None
    assert credentials.passphrase.reveal() == PASSPHRASE
    logged = caplog.text + capsys.readouterr().err
    assert "client_api_credentials" in caplog.text  # the SQL and its parameters were logged
    for secret in (API_KEY, API_SECRET, PASSPHRASE, old, new):
        assert secret not in logged
        assert secret not in out + err
