"""What every run does before its loop: the database migrated, the client known, the run row
created (or found, to resume), and the strategy restored from the stored state."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.config import Settings
from tradebot.db import create_engine, session_factory, transaction
from tradebot.engine.orders import OrderStatus
from tradebot.engine.plan import GridPlan, build_plan
from tradebot.engine.risk import GuardThresholds
from tradebot.engine.strategy import GridStrategy
from tradebot.engine.types import GridConfig, MarketRules
from tradebot.errors import BadInputError, NotFoundError
from tradebot.migrations import migrated
from tradebot.models.clients import Client
from tradebot.models.runs import RunMode, RunStatus
from tradebot.runs.store import SqlRunStore
from tradebot.runtime.order_manager import OrderPolicy
from tradebot.runtime.runner import RunnerSettings
from tradebot.runtime.store import RunRecord
from tradebot.venues.matching import Balances, MatchingEngine


@dataclass(slots=True)
class PreparedRun:
    sessions: async_sessionmaker[AsyncSession]
    store: SqlRunStore
    record: RunRecord
    strategy: GridStrategy

    @property
    def plan(self) -> GridPlan:
        """The run's own grid: a resumed run keeps the grid it was trading, whatever the
        settings say now."""
        return self.strategy.plan

    @property
    def resumed(self) -> bool:
        return self.strategy.started


def new_run_id(mode: RunMode) -> str:
    return f"{mode.value}-{uuid.uuid4().hex[:12]}"


def guard_thresholds(settings: Settings) -> GuardThresholds:
    return GuardThresholds(
        max_run_loss_usd=settings.MAX_RUN_LOSS_USD,
        max_global_drawdown_usd=settings.MAX_GLOBAL_DRAWDOWN_USD,
        max_api_errors_per_min=settings.MAX_API_ERRORS_PER_MIN,
        stale_ticker_ms=settings.STALE_TICKER_MS,
    )


def runner_settings(settings: Settings, *, paper: bool) -> RunnerSettings:
    """The loop's settings. A paper venue lives in this process: an order it does not know was
    never placed (no grace window), there is no exchange to pace requests for, and no round
    trip for its writes to hide behind (they stay in step with its fills, as replays compare)."""
    return RunnerSettings(
        thresholds=guard_thresholds(settings),
        orders=OrderPolicy(
            concurrency=settings.ORDER_CONCURRENCY,
            rate_interval_ms=0 if paper else settings.ORDER_RATE_INTERVAL_MS,
            not_found_grace_ms=0 if paper else settings.NOT_FOUND_GRACE_MS,
            entry_limit=settings.ENTRY_ORDER == "limit",
            replace_timeout_ms=settings.REPLACE_TIMEOUT_MS,
            replace_slippage_pct=settings.REPLACE_SLIPPAGE_PCT,
            replace_max_retries=settings.REPLACE_MAX_RETRIES,
        ),
        regime_auto_adjust=settings.REGIME_AUTO_ADJUST,
        write_behind=not paper,
        send_behind=not paper,
    )


def grid_json(plan: GridPlan, **extra: Any) -> dict[str, Any]:
    return {**plan.config.to_dict(), **extra}


@asynccontextmanager
async def database(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a migrated database; the engine is disposed on the way out."""
    engine = create_engine(url)
    try:
        await migrated(engine, url)
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def prepare_run(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    plan: GridPlan,
    *,
    mode: RunMode,
    base_ts: int,
    config: dict[str, Any],
) -> PreparedRun:
    """Create the run, or find it to resume; refuses an unknown client or a finished run."""
    async with transaction(sessions) as session:
        if await session.get(Client, settings.CLIENT_ID) is None:
            raise NotFoundError(f"CLIENT_ID: unknown client {settings.CLIENT_ID!r}")
    run_id = settings.RUN_ID or new_run_id(mode)
    store = SqlRunStore(sessions, settings.CLIENT_ID, run_id)
    record = await store.load_run()
    if record is None:
        record = RunRecord(
            run_id=run_id,
            client_id=settings.CLIENT_ID,
            mode=mode.value,
            exchange=settings.DEFAULT_EXCHANGE,
            pair=settings.GRID_PAIR,
            base_ts=base_ts,
            config=config,
            owner=settings.RUN_OWNER,
        )
        await store.create_run(record)
    elif record.status == RunStatus.FINISHED.value:
        raise BadInputError(f"RUN_ID: run {run_id!r} already finished; choose another RUN_ID")
    elif record.mode != mode.value:
        raise BadInputError(f"RUN_ID: run {run_id!r} is a {record.mode} run, not {mode.value}")
    if record.state:
        plan = plan_of(record.config, plan.rules)
        state = np.asarray(record.state, dtype=np.float64)
        return PreparedRun(sessions, store, record, GridStrategy(plan, state))
    return PreparedRun(sessions, store, record, GridStrategy(plan))


async def paper_account(run: PreparedRun) -> MatchingEngine:
    """The paper engine of ``run``: a fresh account holding the investment, or (resuming) the
    run's own balances and the orders it had open."""
    config = run.plan.config
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
    return engine


def plan_of(config: dict[str, Any], rules: MarketRules) -> GridPlan:
    """The grid a run stored (``grid_json``), on the venue's rules."""
    return build_plan(GridConfig.from_dict(config), rules)
