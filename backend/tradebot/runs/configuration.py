"""``ClientConfigService``: one client's run configuration, from its stored limits and keys.

The runtime defaults (``Settings``, from the environment) are the base; the client's validated
``limits`` are laid over them; a live run also gets the client's decrypted exchange keys,
wrapped in ``Secret``. Paper runs never decrypt anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tradebot.clients.repository import ClientRepository
from tradebot.clients.schemas import (
    ClientLimits,
    ClientStatus,
    EffectivePlan,
    effective_plan,
    parse_limits,
)
from tradebot.config import Settings
from tradebot.credentials.keyring import configured_master_key, open_keyring
from tradebot.credentials.schemas import CredentialMetadata, ExchangeCredentials
from tradebot.credentials.service import CredentialService, exchange_id
from tradebot.errors import TradeBotError
from tradebot.kit.scope import ClientScope, process_scope
from tradebot.kit.secrets import Secret
from tradebot.models.credentials import CredentialStatus
from tradebot.models.runs import RunMode
from tradebot.venues.permissions import (
    KeyPermissionCheck,
    KeyPermissionError,
    require_trading_only,
)

log = logging.getLogger(__name__)

# limits path -> Settings field it overrides
_OVERLAY = {
    ("risk", "bankroll_usd"): "BANKROLL_USD",
    ("risk", "max_per_trade_pct"): "MAX_PER_TRADE_PCT",
    ("risk", "per_trade_usd"): "PER_TRADE_USD",
    ("guard", "max_global_drawdown_usd"): "MAX_GLOBAL_DRAWDOWN_USD",
    ("guard", "max_run_loss_usd"): "MAX_RUN_LOSS_USD",
    ("guard", "max_api_errors_per_min"): "MAX_API_ERRORS_PER_MIN",
    ("regime", "auto_adjust"): "REGIME_AUTO_ADJUST",
    ("guard", "stale_ticker_ms"): "STALE_TICKER_MS",
}


class RunNotAllowedError(TradeBotError):
    """The client may not start this run (status, plan or missing keys); the message says why."""


class KeyNoLongerSafeError(RunNotAllowedError):
    """The stored key can withdraw now, or the exchange no longer confirms what it may do.

    ``can_withdraw`` is True only when the exchange said so: that key must trip the client's
    kill switch; an unanswered check only refuses the start (to be asked again after
    ``retry_after`` seconds, when the exchange said).
    """

    def __init__(
        self,
        message: str,
        *,
        can_withdraw: bool,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.can_withdraw = can_withdraw
        self.retryable = retryable
        self.retry_after = retry_after


async def recheck_key(config: ClientRunConfig, check: KeyPermissionCheck) -> None:
    """Ask the exchange again what the live run's key may do (issue #10: at every live start).
    Refused (``KeyNoLongerSafeError``): a key that can now withdraw, or whose permissions the
    exchange does not confirm: trip the client's kill switch on the first."""
    keys = config.credentials
    assert keys is not None
    answer = None
    try:
        # A verified key (its row is active): masked in the logs while the check's client has it.
        with keys.held():
            answer = await check.check(config.exchange, keys.api_key, keys.secret, keys.passphrase)
        require_trading_only(config.exchange, answer)
    except KeyPermissionError as exc:
        raise KeyNoLongerSafeError(
            f"live run of client {config.client_id!r} refused at the key re-check: {exc}",
            can_withdraw=answer is not None and answer.can_withdraw,
            retryable=exc.retryable,
            retry_after=exc.retry_after,
        ) from None


@dataclass(frozen=True)
class ClientRunConfig:
    """Everything a run of one client needs. ``credentials`` is set for live runs only."""

    client_id: str
    mode: RunMode
    exchange: str
    settings: Settings
    limits: ClientLimits
    plan: EffectivePlan
    credential: CredentialMetadata | None = None
    credentials: ExchangeCredentials | None = None
    warnings: tuple[str, ...] = ()


def overlay(settings: Settings, limits: ClientLimits, client_id: str, mode: RunMode) -> Settings:
    """``settings`` with the client's limits (those it sets) laid over the defaults."""
    update: dict[str, Any] = {"CLIENT_ID": client_id, "PAPER_MODE": mode is RunMode.PAPER}
    for (section, name), variable in _OVERLAY.items():
        value = getattr(getattr(limits, section), name)
        if value is not None:
            update[variable] = value
    return settings.model_copy(update=update)


class ClientConfigService:
    """Builds the run configuration of the scope's client (inside its tenant transaction)."""

    def __init__(self, session: AsyncSession, scope: ClientScope, settings: Settings) -> None:
        self.session = session
        self.scope = scope
        self.settings = settings

    @classmethod
    def for_process(
        cls, session: AsyncSession, settings: Settings, client: str | None = None
    ) -> ClientConfigService:
        """The service of this process's client (``CLIENT_ID``); another ``client`` is refused."""
        return cls(session, process_scope(settings.CLIENT_ID, client), settings)

    async def limits(self) -> ClientLimits:
        client = await ClientRepository(self.session, self.scope).own()
        return parse_limits(client.limits, where=f"client {client.id!r} limits")

    async def run_configuration(
        self,
        mode: RunMode,
        *,
        exchange: str | None = None,
        label: str = "main",
        master_key: Secret | None = None,
    ) -> ClientRunConfig:
        """The merged configuration; a live run also gets the decrypted, verified keys.

        ``master_key`` defaults to ``CLIENT_MASTER_KEY``. Refused (``RunNotAllowedError``): a
        client that is not active, a grid over the plan's size, live trading off in the plan,
        a live run without stored keys verified against the exchange. The exchange is asked
        about the keys apart (``recheck_key``), while the run loads its book.
        """
        config = await self._allowed(mode, exchange)
        venue = config.exchange
        keys = CredentialService(self.session, self.scope)
        if mode is RunMode.PAPER:
            if await keys.find(venue, label) is not None:
                return config
            warning = (
                f"client {config.client_id!r} has no stored {venue} keys: fine for paper, "
                "required for live runs"
            )
            log.warning(warning)
            return replace(config, warnings=(warning,))
        return await self._live(config, keys, label, master_key)

    async def paper_settings(self) -> Settings:
        """What a paper replay of this client trades with: the client's limits over the
        settings, refused as a live start would be (status, plan size), so the replay sizes
        its grid exactly as the client's live run would."""
        return (await self._allowed(RunMode.PAPER, None)).settings

    async def _allowed(self, mode: RunMode, exchange: str | None) -> ClientRunConfig:
        """The merged configuration, without keys; refused for a client that may not run it."""
        client = await ClientRepository(self.session, self.scope).own()
        if client.status != ClientStatus.ACTIVE.value:
            raise RunNotAllowedError(f"client {client.id!r} is {client.status}: no runs")
        limits = parse_limits(client.limits, where=f"client {client.id!r} limits")
        plan = effective_plan(client.plan, limits.plan)
        settings = overlay(self.settings, limits, client.id, mode)
        if plan.max_grid_steps < settings.GRID_STEPS:
            raise RunNotAllowedError(
                f"GRID_STEPS {settings.GRID_STEPS} is over client {client.id!r}'s plan limit "
                f"of {plan.max_grid_steps} lines"
            )
        venue = exchange_id(exchange or settings.DEFAULT_EXCHANGE)
        return ClientRunConfig(client.id, mode, venue, settings, limits, plan)

    async def _live(
        self,
        config: ClientRunConfig,
        keys: CredentialService,
        label: str,
        master_key: Secret | None,
    ) -> ClientRunConfig:
        client, venue = config.client_id, config.exchange
        if not config.plan.live_trading:
            raise RunNotAllowedError(f"client {client!r}'s plan does not include live trading")
        row = await keys.find(venue, label)
        if row is None:
            raise RunNotAllowedError(
                f"a live run of client {client!r} needs stored {venue} keys: "
                f"tradebot client-admin store-credentials --id {client} --exchange {venue} ..."
            )
        if row.status == CredentialStatus.UNVERIFIED.value:
            raise RunNotAllowedError(
                f"the {venue} keys of client {client!r} were stored with --skip-exchange-check: "
                "store them again with the exchange check for live runs"
            )
        if row.status != CredentialStatus.ACTIVE.value:
            raise RunNotAllowedError(f"the {venue} keys of client {client!r} are {row.status}")
        keyring = await open_keyring(
            self.session, master_key or configured_master_key(self.settings)
        )
        metadata, credentials = await keys.decrypt(keyring, venue, label)
        return replace(config, credential=metadata, credentials=credentials)
