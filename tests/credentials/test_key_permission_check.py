"""The withdraw check through real ccxt against the local exchange simulator: it reports what
the key may do, and anything it cannot learn is a refusal (fail closed). The CLI's use of it
is in tests/cli/test_client_admin.py."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.clients.factories import make_client
from tests.venues.sim_fixtures import (
    KEY,
    OTHER_KEY,
    OTHER_SECRET,
    SECRET,
    account,
    control,
    running_sim,
    sim_config,
)
from tradebot.admin.service import ClientAdmin
from tradebot.config import load_settings
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.kit.secrets import Secret
from tradebot.models.runs import RunMode
from tradebot.runs.configuration import ClientConfigService, KeyNoLongerSafeError, recheck_key
from tradebot.venues.key_permissions import CcxtKeyPermissionCheck
from tradebot.venues.permissions import KeyPermissionError


async def _check(url: str, key: str = KEY, secret: str = SECRET, exchange: str = "binance"):
    return await CcxtKeyPermissionCheck(sandbox_url=url, timeout_ms=2_000).check(
        exchange, Secret(key), Secret(secret), None
    )


async def test_trading_only_key_reads_as_trade_without_withdraw():
    async with running_sim() as sim:
        permissions = await _check(sim.url)
    assert (permissions.can_trade, permissions.can_withdraw) == (True, False)
    assert permissions.source == "binance GET /sapi/v1/account/apiRestrictions"


async def test_key_with_withdrawals_enabled_reads_as_withdraw():
    config = sim_config(accounts=[account(), account(OTHER_KEY, OTHER_SECRET)])
    async with running_sim(config) as sim:
        await control(sim.url, "POST", f"/_sim/accounts/{OTHER_KEY}/permissions",
                      {"enableWithdrawals": True})  # fmt: skip
        assert (await _check(sim.url, OTHER_KEY, OTHER_SECRET)).can_withdraw is True
        assert (await _check(sim.url)).can_withdraw is False


async def test_a_wrong_secret_is_refused_without_showing_it():
    async with running_sim() as sim:
        with pytest.raises(KeyPermissionError, match="did not confirm") as error:
            await _check(sim.url, secret="not-the-secret-of-this-key")
    assert "not-the-secret-of-this-key" not in str(error.value)


async def test_an_exchange_error_is_a_refusal_not_a_pass():
    async with running_sim() as sim:
        await control(sim.url, "POST", "/_sim/faults", {"rules": [
            {"kind": "5xx", "path": "/sapi/v1/account/apiRestrictions", "count": 3}]})  # fmt: skip
        with pytest.raises(KeyPermissionError, match="did not confirm"):
            await _check(sim.url)  # asked three times, three errors


async def test_a_busy_exchange_is_a_refusal_to_ask_again_when_it_says():
    async with running_sim() as sim:
        await control(sim.url, "POST", "/_sim/faults", {"rules": [
            {"kind": "429", "path": "/sapi/v1/account/apiRestrictions", "count": 3,
             "retry_after_s": 1}]})  # fmt: skip
        with pytest.raises(KeyPermissionError, match="did not confirm") as error:
            await _check(sim.url)
    assert error.value.retryable
    assert error.value.retry_after == 1.0  # the exchange's Retry-After: a run waits that long


async def test_a_check_the_exchange_did_not_answer_is_asked_again_after_its_retry_after():
    # Naive: refuse at the first 429 or 5xx: a run's whole start then waits its backoff and
    # asks everything again, for a penalty of a second.
    async with running_sim() as sim:
        await control(sim.url, "POST", "/_sim/faults", {"rules": [
            {"kind": "429", "path": "/sapi/v1/account/apiRestrictions", "count": 1,
             "retry_after_s": 1},
            {"kind": "5xx", "path": "/sapi/v1/account/apiRestrictions", "count": 1}]})  # fmt: skip
        began = time.monotonic()
        permissions = await _check(sim.url)
        waited = time.monotonic() - began
        asked = sim.sim.requests["GET /sapi/v1/account/apiRestrictions"]
    assert (permissions.can_trade, permissions.can_withdraw) == (True, False)
    assert asked == 3
    assert waited >= 1.0  # not before the exchange said


async def test_an_unreachable_exchange_is_a_refusal():
    async with running_sim() as sim:
        url = sim.url
    await asyncio.sleep(0)
    with pytest.raises(KeyPermissionError, match="did not confirm"):
        await _check(url)


async def test_an_exchange_without_a_check_is_refused():
    with pytest.raises(KeyPermissionError, match="no withdraw-permission check for kraken"):
        await _check("http://127.0.0.1:9", exchange="kraken")


async def test_live_start_rechecks_the_key_and_refuses_one_that_gained_withdrawals(
    pg_sessions, master_key
):
    client = await make_client(pg_sessions, plan="pro")
    settings = load_settings(CLIENT_MASTER_KEY=master_key)
    scope = ClientScope.of(client)
    async with running_sim() as sim:
        check = CcxtKeyPermissionCheck(sandbox_url=sim.url, timeout_ms=2_000)
        stored = await ClientAdmin(pg_sessions, "tester").store_credentials(
            client, "binance", KEY, SECRET, None, Secret(master_key), check
        )
        assert stored.metadata.status == "active"
        assert stored.metadata.permissions["can_withdraw"] is False
        async with client_transaction(pg_sessions, scope) as session:
            service = ClientConfigService(session, scope, settings)
            config = await service.run_configuration(RunMode.LIVE)
        await recheck_key(config, check)
        assert config.credentials is not None
        await control(sim.url, "POST", f"/_sim/accounts/{KEY}/permissions",
                      {"enableWithdrawals": True})  # fmt: skip
        async with client_transaction(pg_sessions, scope) as session:
            service = ClientConfigService(session, scope, settings)
            config = await service.run_configuration(RunMode.LIVE)
        with pytest.raises(KeyNoLongerSafeError, match="withdrawals enabled"):
            await recheck_key(config, check)


@pytest.mark.parametrize("broken", ["\r\n", "\n", "\r"])
async def test_a_key_that_cannot_be_sent_as_a_header_is_a_refusal(broken):
    key = f"{KEY}{broken}X-Injected: yes"
    async with running_sim() as sim:
        with pytest.raises(KeyPermissionError, match="did not confirm") as error:
            await _check(sim.url, key=key)
    assert not error.value.retryable  # asking again sends the same key
    assert KEY not in str(error.value)
