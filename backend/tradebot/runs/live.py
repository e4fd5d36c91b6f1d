"""Runs on live market data: paper (simulated fills on real prices) or live (real orders).

Both go through the same run loop as the paper replay. A live run takes its keys from the
client's encrypted store and asks the exchange what the key may do first: a key that can
withdraw trips the client's kill switch and the run never starts; no answer is a refusal.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import cast

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.config import Settings
from tradebot.engine.plan import build_plan
from tradebot.engine.risk import Guard
from tradebot.errors import TradeBotError
from tradebot.kit.clock import Laps
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.models.runs import RunMode
from tradebot.observability.logs import get_logger
from tradebot.runs.configuration import (
    ClientConfigService,
    ClientRunConfig,
    KeyNoLongerSafeError,
    recheck_key,
)
from tradebot.runs.grid_edit import SqlGridEdits
from tradebot.runs.launcher import (
    PreparedRun,
    database,
    grid_json,
    paper_account,
    prepare_run,
    runner_settings,
)
from tradebot.runs.store import trip_kill_switch
from tradebot.runtime.grid_edits import GridEdits
from tradebot.runtime.ports import PriceFeed, QuietFeed, Tick, Venue, VenueError
from tradebot.runtime.quiet import Quiet
from tradebot.runtime.runner import GridRunner, RunnerSettings, RunOutcome
from tradebot.venues.account_streams import AccountStreams
from tradebot.venues.ccxt_venue import CcxtVenue
from tradebot.venues.connection import ExchangeAccess, ExchangeConnection, connect
from tradebot.venues.paper import PaperVenue
from tradebot.venues.permissions import KeyPermissionCheck
from tradebot.venues.retry import Backoff, call_with_retries
from tradebot.venues.sandbox_clock import SandboxClock

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class LiveOptions:
    sandbox_url: str | None = None
    """Base URL of a local exchange simulator (tests, demos); None = the real exchange."""
    sandbox_step: bool = False
    """Step a paused simulator one segment per poll (deterministic sandbox runs)."""
    stop: asyncio.Event | None = None
    stop_reason: Callable[[], str | None] | None = None
    """Why ``stop`` was set (the run's recorded stop reason), when its setter knows."""
    key_check: KeyPermissionCheck | None = None
    prices: PriceFeed | None = None
    """The run's prices from a shared feed (a worker listens once per pair for all its runs)
    instead of a feed of its own: a paper run then opens no exchange connection."""
    edit_queued: Callable[[], bool] | None = None
    """Whether the run's client queued an edit of its grid, as a worker's watcher reads it for
    all its runs at once; None: the run asks the database itself (once a second)."""
    sessions: async_sessionmaker[AsyncSession] | None = None
    """Sessions on a migrated database shared by many runs (a worker's pool); None: the run
    opens (and migrates) ``database_url`` itself."""
    accounts: AccountStreams | None = None
    """The process's user-data streams, one per exchange account for all its runs (a
    worker's); None: a live run opens its account's stream itself."""
    http: aiohttp.ClientSession | None = None
    """The process's HTTP connection pool for its exchange clients (a worker's); None: the
    run's client opens its own."""


async def _ticks(feed: PriceFeed) -> AsyncIterator[Tick]:
    while (tick := await feed.next_tick()) is not None:
        yield tick


@asynccontextmanager
async def _database(
    options: LiveOptions, url: str
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if options.sessions is not None:
        yield options.sessions
        return
    async with database(url) as sessions:
        yield sessions


START_BACKOFF = Backoff(attempts=6, base_s=1.0, cap_s=60.0)
"""How a run process waits for an exchange that fails its start: about five minutes at most."""


def _waiting(error: VenueError | TradeBotError, delay: float) -> None:
    log.warning("run_start_waits", error=str(error), delay_s=round(delay, 1))


async def run_patiently(
    settings: Settings,
    options: LiveOptions,
    *,
    database_url: str | None = None,
    backoff: Backoff = START_BACKOFF,
) -> RunOutcome:
    """``run_on_live_data`` for a run process of its own: started again after a failure that
    may pass (the markets or the key re-check unanswered, a 429, a 5xx, our shared request
    budget spent for the minute), as a worker's job retries do for pooled runs, instead of
    exiting to be restarted at once by a supervisor and asking again and again. Resuming is
    always safe: the run reconciles first."""
    return await call_with_retries(
        lambda: run_on_live_data(settings, options, database_url=database_url),
        lambda exc: cast(VenueError | TradeBotError, exc),
        backoff,
        catch=(VenueError, TradeBotError),
        on_retry=_waiting,
    )


def _wall_ms() -> int:
    return int(time.time() * 1000)


async def run_on_live_data(
    settings: Settings, options: LiveOptions, *, database_url: str | None = None
) -> RunOutcome:
    """Start (or resume) the run of ``CLIENT_ID``: paper when PAPER_MODE, else live."""
    mode = RunMode.PAPER if settings.PAPER_MODE else RunMode.LIVE
    laps = Laps()
    async with _database(options, database_url or settings.database_url) as sessions:
        config = await _run_configuration(sessions, settings, mode)
        laps.lap("configuration")
        # The exchange client holds the keys from its connection to its close: masked in
        # every log line meanwhile (ccxt's debug output prints signed requests).
        with config.credentials.held() if config.credentials is not None else nullcontext():
            # The exchange is asked about the key while the run loads the markets and its
            # book (reads only): the run places or cancels nothing before the answer.
            checked = _key_checked(sessions, config, options)
            market, own = _market(config, options, mode)
            try:
                run = await _prepare(sessions, config, market, mode)
                laps.lap("prepare")
                venue: Venue
                if own is not None and mode is RunMode.LIVE:
                    # Its exchange client takes the process's copy of the markets: left to
                    # ccxt, its first request would load them again (20 weight each start).
                    await own.venue.market_rules()
                    laps.lap("markets")
                    venue = own.venue
                else:
                    venue = PaperVenue(await paper_account(run), _ticks(market))
                edits = SqlGridEdits(
                    sessions, run.record.client_id, run.record.run_id, queued=options.edit_queued
                )
                runner = _runner(run, venue, edits, config.settings, options, mode, laps, checked)
                if own is not None and own.sandbox is not None:
                    _hold_while_unsure(own.sandbox, runner, own.venue)
                return await runner.run()
            finally:
                if checked is not None:
                    await _settled(checked)
                await (own.close() if own is not None else market.close())


async def _run_configuration(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, mode: RunMode
) -> ClientRunConfig:
    """The client's configuration of the run (its keys, for a live run)."""
    scope = ClientScope.of(settings.CLIENT_ID)
    async with client_transaction(sessions, scope) as session:
        return await ClientConfigService(session, scope, settings).run_configuration(mode)


async def _settled(task: asyncio.Task[None]) -> None:
    """The task ended (cancelled if it had not): a refusal the run never waited for (it
    failed before) is not left to be reported as never retrieved."""
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled():
        task.exception()


def _key_checked(
    sessions: async_sessionmaker[AsyncSession], config: ClientRunConfig, options: LiveOptions
) -> asyncio.Task[None] | None:
    """A live run's key asked again of the exchange (never cached), in a task of its own."""
    if config.mode is not RunMode.LIVE or config.credentials is None:
        return None

    async def check() -> None:
        try:
            await recheck_key(config, _key_check(options))
        except KeyNoLongerSafeError as exc:
            if exc.can_withdraw:  # a leaked key could move funds out: every run of it stops
                guard = Guard.KEY_PERMISSIONS.value
                await trip_kill_switch(sessions, config.client_id, guard, str(exc), _wall_ms())
            raise

    return asyncio.create_task(check())


def _market(
    config: ClientRunConfig, options: LiveOptions, mode: RunMode
) -> tuple[PriceFeed, ExchangeConnection | None]:
    """Where the run's prices come from: the shared feed a worker gives its runs, or else a
    connection of the run's own; a live run also trades on a connection of its own."""
    if mode is RunMode.PAPER and options.prices is not None:
        return options.prices, None
    own = _connect(config, options)
    return options.prices or own.prices, own


def _connect(config: ClientRunConfig, options: LiveOptions) -> ExchangeConnection:
    """The run's own connection to its exchange, with the client's keys when it has them."""
    keys = config.credentials
    access = ExchangeAccess(
        config.exchange,
        config.settings.GRID_PAIR,
        account=config.settings.CLIENT_ID,
        api_key=keys.api_key.reveal() if keys else None,
        secret=keys.secret.reveal() if keys else None,
        sandbox_url=options.sandbox_url,
        sandbox_step=options.sandbox_step,
    )
    return connect(
        config.settings, access, prices=options.prices, accounts=options.accounts, http=options.http
    )


async def _prepare(
    sessions: async_sessionmaker[AsyncSession],
    config: ClientRunConfig,
    market: PriceFeed,
    mode: RunMode,
) -> PreparedRun:
    """The run row, created on the grid the settings give on the market's rules, or found."""
    settings = config.settings
    plan = build_plan(settings.grid_config(), await market.market_rules())
    return await prepare_run(
        sessions,
        settings,
        plan,
        mode=mode,
        base_ts=_wall_ms(),
        config=grid_json(plan, exchange=config.exchange, pair=settings.GRID_PAIR),
    )


def _runner(
    run: PreparedRun,
    venue: Venue,
    edits: GridEdits,
    settings: Settings,
    options: LiveOptions,
    mode: RunMode,
    laps: Laps,
    checked: Awaitable[None] | None,
) -> GridRunner:
    return GridRunner(
        run.record,
        run.strategy,
        venue,
        run.store,
        _stepped(runner_settings(settings, paper=mode is RunMode.PAPER), options),
        wall_clock=_wall_ms,
        stop=options.stop,
        stop_reason=options.stop_reason,
        grid_edits=edits,
        quiet=_quiet_hook(options, mode),
        decided=options.prices.decided if isinstance(options.prices, QuietFeed) else None,
        wake=options.prices.wake if isinstance(options.prices, QuietFeed) else None,
        laps=laps,
        ready=checked,
    )


def _stepped(settings: RunnerSettings, options: LiveOptions) -> RunnerSettings:
    """A stepped sandbox holds its market while an order is in doubt: asked at every tick
    there (a wait between asks would hold the market longer, past the stale-price guard),
    and its orders are sent within the tick that decided them (the market steps once every
    run is done with the last tick)."""
    if not options.sandbox_step:
        return settings
    every_tick = dataclasses.replace(settings.orders, ask_again_ms=0)
    return dataclasses.replace(settings, orders=every_tick, send_behind=False)


def _quiet_hook(options: LiveOptions, mode: RunMode) -> Callable[[Quiet], None] | None:
    """A live run on a shared feed sleeps through the ticks that change nothing for it; a
    paper run sees every tick (its simulated fills need the whole path of prices)."""
    feed = options.prices
    return feed.quiet if mode is RunMode.LIVE and isinstance(feed, QuietFeed) else None


def _hold_while_unsure(sandbox: SandboxClock, runner: GridRunner, venue: CcxtVenue) -> None:
    """The stepped market waits while the run cannot know its book: orders whose fate is
    being asked, and orders the exchange lost sight of (their fills are to come)."""
    sandbox.hold_while = lambda: bool(runner.orders.unresolved() or venue.lost_sight)


def _key_check(options: LiveOptions) -> KeyPermissionCheck:
    """The exchange's own answer about a key, asked at every live start (never cached)."""
    if options.key_check is not None:
        return options.key_check
    from tradebot.venues.key_permissions import CcxtKeyPermissionCheck

    return CcxtKeyPermissionCheck(sandbox_url=options.sandbox_url)
