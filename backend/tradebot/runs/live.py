"""Runs on live market data: paper (simulated fills on real prices) or live (real orders).

Both go through the same run loop as the paper replay. A live run takes its keys from the
client's encrypted store and asks the exchange what the key may do first: a key that can
withdraw trips the client's kill switch and the run never starts; no answer is a refusal.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from tradebot.config import Settings
from tradebot.credentials.permissions import (
    KeyPermissionCheck,
    KeyPermissionError,
    require_trading_only,
)
from tradebot.engine.orders import OrderStatus
from tradebot.engine.plan import GridPlan, build_plan
from tradebot.engine.risk import Guard
from tradebot.kit.secrets import Secret
from tradebot.kit.tenancy import TenantScope, tenant_transaction
from tradebot.runs.launcher import PreparedRun, database, grid_json, prepare_run, runner_settings
from tradebot.runs.models import RunMode
from tradebot.runs.repository import trip_kill_switch
from tradebot.runtime.ports import Tick, Venue
from tradebot.runtime.runner import GridRunner, RunOutcome
from tradebot.tenants.service import ClientConfigService
from tradebot.venues.ccxt_factory import make_exchange
from tradebot.venues.ccxt_venue import CcxtVenue
from tradebot.venues.matching import Balances, MatchingEngine
from tradebot.venues.paper import PaperVenue
from tradebot.venues.sandbox_clock import SandboxClock


@dataclass(frozen=True, slots=True)
class LiveOptions:
    sandbox_url: str | None = None
    """Base URL of a local exchange simulator (tests, demos); None = the real exchange."""
    sandbox_step: bool = False
    """Step a paused simulator one segment per poll (deterministic sandbox runs)."""
    stop: asyncio.Event | None = None
    key_check: KeyPermissionCheck | None = None


async def _ticks(venue: CcxtVenue) -> AsyncIterator[Tick]:
    while (tick := await venue.next_tick()) is not None:
        yield tick


def _wall_ms() -> int:
    return int(time.time() * 1000)


async def run_on_live_data(
    settings: Settings, options: LiveOptions, *, database_url: str | None = None
) -> RunOutcome:
    """Start (or resume) the run of ``CLIENT_ID``: paper when PAPER_MODE, else live."""
    mode = RunMode.PAPER if settings.PAPER_MODE else RunMode.LIVE
    async with database(database_url or settings.database_url) as sessions:
        scope = TenantScope.of(settings.CLIENT_ID)
        async with tenant_transaction(sessions, scope) as session:
            config = await ClientConfigService(session, scope, settings).run_configuration(mode)
        settings = config.settings
        keys = config.credentials
        exchange = make_exchange(
            config.exchange,
            api_key=keys.api_key.reveal() if keys else None,
            secret=keys.secret.reveal() if keys else None,
            sandbox_url=options.sandbox_url,
            rate_limit=not options.sandbox_step,
        )
        sandbox = (
            SandboxClock(options.sandbox_url)
            if options.sandbox_step and options.sandbox_url
            else None
        )
        stepper = sandbox.step if sandbox is not None else None
        market = CcxtVenue(
            exchange,
            settings.GRID_PAIR,
            # A stepped sandbox's clock is the step itself: no pause between polls.
            poll_interval_ms=0 if stepper else settings.ORDER_POLL_INTERVAL_MS,
            account=settings.CLIENT_ID,
            before_poll=stepper,
        )
        try:
            if keys is not None:
                await _check_key(
                    config.exchange,
                    keys.api_key,
                    keys.secret,
                    keys.passphrase,
                    options,
                    sessions,
                    settings,
                )
            plan = build_plan(settings.grid_config(), await market.market_rules())
            run = await prepare_run(
                sessions,
                settings,
                plan,
                mode=mode,
                base_ts=_wall_ms(),
                config=grid_json(plan, exchange=config.exchange, pair=settings.GRID_PAIR),
            )
            venue: Venue = market if mode is RunMode.LIVE else await _paper_on(market, plan, run)
            grace = None if mode is RunMode.LIVE else 0
            runner = GridRunner(
                run.record,
                run.strategy,
                venue,
                run.store,
                runner_settings(settings, not_found_grace_ms=grace),
                wall_clock=_wall_ms,
                stop=options.stop,
            )
            if sandbox is not None:
                sandbox.hold_while = lambda: bool(runner.orders.unresolved())
            return await runner.run()
        finally:
            await market.close()


async def _paper_on(market: CcxtVenue, plan: GridPlan, run: PreparedRun) -> PaperVenue:
    """The paper engine on the market's live prices, holding the run's book when resuming."""
    config = plan.config
    engine = MatchingEngine(
        maker_fee=config.maker_fee,
        taker_fee=config.taker_fee,
        balances=Balances(quote_free=config.investment),
    )
    if run.resumed:
        snap = run.strategy.snapshot()
        engine.balances = Balances(base_free=snap.base, quote_free=snap.quote)
        for order in await run.store.orders(frozenset({OrderStatus.OPEN})):
            engine.place_limit(
                order.client_order_id, order.side, order.price, order.qty, order.created_ts
            )
    return PaperVenue(engine, _ticks(market))


async def _check_key(
    exchange: str,
    api_key: Secret,
    secret: Secret,
    passphrase: Secret | None,
    options: LiveOptions,
    sessions: Any,
    settings: Settings,
) -> None:
    """Ask the exchange what the key may do, at every live start; a withdraw-enabled key
    trips the client's kill switch."""
    check = options.key_check
    if check is None:
        from tradebot.venues.key_permissions import CcxtKeyPermissionCheck

        check = CcxtKeyPermissionCheck(sandbox_url=options.sandbox_url)
    permissions = await check.check(exchange, api_key, secret, passphrase)
    try:
        require_trading_only(exchange, permissions)
    except KeyPermissionError as exc:
        if permissions.can_withdraw:
            await trip_kill_switch(
                sessions, settings.CLIENT_ID, Guard.KEY_PERMISSIONS.value, str(exc), _wall_ms()
            )
        raise
