"""``ClientConfigService``: the client's limits over the runtime defaults, keys for live runs."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import update

from tests.clients.factories import make_client
from tradebot.admin.service import ClientAdmin
from tradebot.config import load_settings
from tradebot.db import transaction
from tradebot.errors import BadInputError, ConfigError
from tradebot.kit.scope import ClientMismatchError, ClientScope, client_transaction
from tradebot.kit.secrets import Secret
from tradebot.models.clients import Client
from tradebot.models.credentials import ClientApiCredential
from tradebot.models.runs import RunMode
from tradebot.runs.configuration import ClientConfigService, RunNotAllowedError

SECRET = "live-secret-never-shown"


async def _config(sessions, client, mode, **settings):
    scope = ClientScope.of(client)
    async with client_transaction(sessions, scope) as session:
        service = ClientConfigService(session, scope, load_settings(**settings))
        return await service.run_configuration(mode)


async def _with_keys(sessions, master_key, key_status="active", **client_fields):
    client = await make_client(sessions, **{"plan": "pro", **client_fields})
    await ClientAdmin(sessions, "tester").store_credentials(
        client, "binance", "LIVEKEY000000000kkkk", SECRET, None, Secret(master_key), None
    )
    async with transaction(sessions) as session:
        await session.execute(
            update(ClientApiCredential)
            .where(ClientApiCredential.client_id == client)
            .values(status=key_status)
        )
    return client


async def test_client_limits_override_the_runtime_defaults(pg_sessions):
    limits = {
        "risk": {"bankrollUsd": 5000, "perTradeUsd": 50},
        "guard": {"maxRunLossUsd": 300, "staleTickerMs": 15000},
        "plan": {"maxRuns": 1},
    }
    client = await make_client(pg_sessions, limits=limits, plan="pro")
    config = await _config(pg_sessions, client, RunMode.PAPER, MAX_GLOBAL_DRAWDOWN_USD=700)
    s = config.settings
    assert (s.BANKROLL_USD, s.PER_TRADE_USD, s.MAX_RUN_LOSS_USD) == (5000, 50, 300)
    assert (s.STALE_TICKER_MS, s.MAX_GLOBAL_DRAWDOWN_USD, s.MAX_PER_TRADE_PCT) == (15000, 700, 5)
    assert client == s.CLIENT_ID
    assert s.PAPER_MODE is True
    assert config.plan.model_dump() == {"max_runs": 1, "max_grid_steps": 500, "live_trading": True}


async def test_paper_run_without_keys_works_with_a_warning(pg_sessions, caplog):
    client = await make_client(pg_sessions)
    with caplog.at_level(logging.WARNING):
        config = await _config(pg_sessions, client, RunMode.PAPER)
    assert config.credentials is None
    assert config.warnings == (
        f"client {client!r} has no stored binance keys: fine for paper, required for live runs",
    )
    assert config.warnings[0] in caplog.text


async def test_live_run_without_stored_keys_is_refused(pg_sessions, master_key):
    client = await make_client(pg_sessions, plan="pro")
    with pytest.raises(RunNotAllowedError, match="needs stored binance keys"):
        await _config(pg_sessions, client, RunMode.LIVE, CLIENT_MASTER_KEY=master_key)


async def test_live_run_with_unchecked_keys_is_refused(pg_sessions, master_key):
    client = await _with_keys(pg_sessions, master_key, key_status="unverified")
    with pytest.raises(RunNotAllowedError, match="stored with --skip-exchange-check"):
        await _config(pg_sessions, client, RunMode.LIVE, CLIENT_MASTER_KEY=master_key)


async def test_live_run_gets_the_decrypted_keys_wrapped_in_secrets(pg_sessions, master_key, caplog):
    client = await _with_keys(pg_sessions, master_key)
    with caplog.at_level(logging.DEBUG):
        config = await _config(pg_sessions, client, RunMode.LIVE, CLIENT_MASTER_KEY=master_key)
    assert config.credentials is not None
    assert config.credentials.secret.reveal() == SECRET
    assert config.credential is not None
    assert config.credential.key_id == "****kkkk"
    assert config.settings.PAPER_MODE is False
    for shown in (repr(config), str(config), caplog.text):
        assert SECRET not in shown
        assert master_key not in shown


async def test_live_run_without_a_master_key_is_a_config_error(pg_sessions, master_key):
    client = await _with_keys(pg_sessions, master_key)
    with pytest.raises(ConfigError, match="CLIENT_MASTER_KEY is not set"):
        await _config(pg_sessions, client, RunMode.LIVE)


@pytest.mark.parametrize(
    ("fields", "settings", "message"),
    [
        ({"status": "suspended"}, {}, "is suspended: no runs"),
        ({"limits": {"plan": {"liveTrading": False}}}, {}, "does not include live trading"),
        ({"plan": "trial"}, {}, "does not include live trading"),
        ({"plan": "trial"}, {"GRID_STEPS": 150}, "over client .* plan limit of 100 lines"),
    ],
)
async def test_runs_outside_the_clients_status_or_plan_are_refused(
    pg_sessions, master_key, fields, settings, message
):
    client = await _with_keys(pg_sessions, master_key, **fields)
    with pytest.raises(RunNotAllowedError, match=message):
        await _config(pg_sessions, client, RunMode.LIVE, CLIENT_MASTER_KEY=master_key, **settings)


async def test_bad_stored_limits_name_the_field(pg_sessions):
    client = await make_client(pg_sessions)
    async with transaction(pg_sessions) as session:
        await session.execute(
            update(Client)
            .where(Client.id == client)
            .values(limits={"guard": {"maxRunLossUsd": "lots"}})
        )
    with pytest.raises(BadInputError) as error:
        await _config(pg_sessions, client, RunMode.PAPER)
    assert str(error.value) == (
        f"client {client!r} limits.guard.maxRunLossUsd: Input should be a valid number"
    )


async def test_process_scoped_service_refuses_another_client(pg_sessions):
    client = await make_client(pg_sessions)
    settings = load_settings(CLIENT_ID=client)
    async with client_transaction(pg_sessions, ClientScope.of(client)) as session:
        assert ClientConfigService.for_process(session, settings).scope.client_id == client
        with pytest.raises(ClientMismatchError, match="refusing to act for client 'default'"):
            ClientConfigService.for_process(session, settings, "default")
