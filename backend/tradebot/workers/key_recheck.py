"""The daily re-check of every verified exchange key (issue #10, rule 5).

Each active key is decrypted in its client's transaction and the exchange is asked what it may
do now (``CcxtKeyPermissionCheck``: Binance's apiRestrictions through ccxt). A key that has
gained withdraw permission trips the client's kill switch (guard ``key_permissions``): the
watcher stops every run of the client after its tick and no run starts until an operator
resets it; the trail records it and an ``alert`` line is logged at error level. The check
fails closed: a key the exchange does not answer for is recorded (``key_recheck_failed``) and
stays refused for live starts, which ask again and refuse on no answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from tradebot.admin.repository import AdminRepository
from tradebot.clients.repository import AuditRepository
from tradebot.credentials.keyring import Keyring, configured_master_key, open_keyring
from tradebot.credentials.service import CredentialService
from tradebot.db import transaction
from tradebot.engine.risk import Guard
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.models.credentials import CredentialStatus
from tradebot.observability.logs import get_logger
from tradebot.runs.store import trip_kill_switch
from tradebot.venues.permissions import KeyPermissionCheck, KeyPermissionError
from tradebot.workers.state import STATE, WorkerState

log = get_logger(__name__)
ACTOR = "worker"


@dataclass(slots=True)
class RecheckReport:
    checked: int = 0
    tripped: list[str] = field(default_factory=list)
    """Clients whose kill switch was tripped (a key can withdraw)."""
    unconfirmed: list[str] = field(default_factory=list)
    """Clients with a key the exchange did not confirm (refused for live until it does)."""


def _default_check(state: WorkerState) -> KeyPermissionCheck:
    from tradebot.venues.key_permissions import CcxtKeyPermissionCheck

    return CcxtKeyPermissionCheck(sandbox_url=state.options.sandbox_url)


async def recheck_keys(
    state: WorkerState, check: KeyPermissionCheck | None = None
) -> RecheckReport:
    """Ask the exchange about every active key; trip the kill switch of clients whose key can
    now withdraw."""
    check = check or _default_check(state)
    report = RecheckReport()
    async with transaction(state.sessions) as session:
        rows = [
            (row.client_id, row.exchange, row.label)
            for row in await AdminRepository(session).all_credentials()
            if row.status == CredentialStatus.ACTIVE.value
        ]
        if not rows:
            return report
        keyring = await open_keyring(session, configured_master_key(state.settings))
    for client_id, exchange, label in rows:
        report.checked += 1
        await _recheck(state, check, keyring, report, client_id, exchange, label)
    return report


async def _recheck(
    state: WorkerState,
    check: KeyPermissionCheck,
    keyring: Keyring,
    report: RecheckReport,
    client_id: str,
    exchange: str,
    label: str,
) -> None:
    scope = ClientScope.of(client_id)
    async with client_transaction(state.sessions, scope) as session:
        _meta, keys = await CredentialService(session, scope).decrypt(keyring, exchange, label)
    target = f"{exchange} key {label}"
    try:
        with keys.held():  # a stored key, verified when it was stored: masked while asked
            answer = await check.check(exchange, keys.api_key, keys.secret, keys.passphrase)
    except KeyPermissionError as exc:
        report.unconfirmed.append(client_id)
        log.warning("key_recheck_failed", client_id=client_id, exchange=exchange, error=str(exc))
        await _record(state, scope, "key_recheck_failed", target, {"error": str(exc)[:300]})
        return
    if not answer.can_withdraw:
        if not answer.can_trade:
            report.unconfirmed.append(client_id)
            await _record(state, scope, "key_cannot_trade", target, answer.snapshot())
        return
    reason = f"the {exchange} key ({label}) has withdrawals enabled: kill switch tripped"
    await trip_kill_switch(
        state.sessions, client_id, Guard.KEY_PERMISSIONS.value, reason, int(time.time() * 1000)
    )
    await _record(state, scope, "key_gained_withdraw", target, answer.snapshot())
    report.tripped.append(client_id)
    log.error("alert", kind="key_gained_withdraw", client_id=client_id, exchange=exchange)


async def _record(
    state: WorkerState, scope: ClientScope, action: str, target: str, details: dict[str, Any]
) -> None:
    async with client_transaction(state.sessions, scope) as session:
        await AuditRepository(session, scope).record(ACTOR, action, target, details)


async def key_recheck(ctx: dict[str, Any]) -> int:
    """arq cron (daily): ``recheck_keys``; returns how many clients were tripped."""
    return len((await recheck_keys(ctx[STATE])).tripped)
