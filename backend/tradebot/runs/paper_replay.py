"""Paper replay: real candles through the live run loop, a paper venue and the database.

Everything is checked before the run row is written (candles, plan, client), so bad input
leaves nothing behind. A replay killed part-way resumes from its stored clock and book.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from dataclasses import dataclass

import numpy as np

from tradebot.backtest.result import GridResult
from tradebot.backtest.summary import equity_from_fills, summarize
from tradebot.candles.model import Candles
from tradebot.config import Settings
from tradebot.db import create_engine, session_factory, transaction
from tradebot.engine.orders import OrderStatus
from tradebot.engine.plan import GridPlan
from tradebot.engine.risk import GuardLimits
from tradebot.engine.strategy import GridStrategy
from tradebot.engine.types import Fill
from tradebot.errors import BadInputError, NotFoundError
from tradebot.migrations import upgrade
from tradebot.runs.models import Client, RunMode, RunStatus
from tradebot.runs.repository import RunRepository
from tradebot.runtime.order_manager import OrderPolicy
from tradebot.runtime.runner import GridRunner, RunnerSettings, RunOutcome
from tradebot.runtime.store import RunRecord
from tradebot.venues.matching import Balances, MatchingEngine
from tradebot.venues.paper import PaperVenue
from tradebot.venues.replay import replay_ticks


@dataclass(frozen=True, slots=True)
class PaperReplayResult:
    run_id: str
    outcome: RunOutcome
    result: GridResult
    candles: Candles


def runner_settings(settings: Settings) -> RunnerSettings:
    return RunnerSettings(
        limits=GuardLimits(
            max_run_loss_usd=settings.MAX_RUN_LOSS_USD,
            max_global_drawdown_usd=settings.MAX_GLOBAL_DRAWDOWN_USD,
            max_api_errors_per_min=settings.MAX_API_ERRORS_PER_MIN,
            stale_ticker_ms=settings.STALE_TICKER_MS,
        ),
        # The paper engine lives in this process: an order it does not know was never placed.
        orders=OrderPolicy(concurrency=settings.ORDER_CONCURRENCY, not_found_grace_ms=0),
    )


def shifted(candles: Candles, base_ts: int) -> Candles:
    """The candles on the replay clock: the first open at ``base_ts``."""
    return dataclasses.replace(candles, ts=candles.ts + (base_ts - int(candles.ts[0])))


def _new_run_id() -> str:
    return f"paper-{uuid.uuid4().hex[:12]}"


async def run_paper_replay(
    plan: GridPlan, candles: Candles, settings: Settings, *, database_url: str | None = None
) -> PaperReplayResult:
    url = database_url or settings.database_url
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        async with transaction(sessions) as session:
            if await session.get(Client, settings.CLIENT_ID) is None:
                raise NotFoundError(f"CLIENT_ID: unknown client {settings.CLIENT_ID!r}")
        base_ts = settings.PAPER_MODE_BASE_TS
        base_ts = int(candles.ts[0]) if base_ts is None else base_ts
        run_id = settings.RUN_ID or _new_run_id()
        store = RunRepository(sessions, settings.CLIENT_ID, run_id)
        record = await store.load_run()
        if record is None:
            record = RunRecord(
                run_id=run_id,
                client_id=settings.CLIENT_ID,
                mode=RunMode.PAPER.value,
                exchange=settings.DEFAULT_EXCHANGE,
                pair=settings.GRID_PAIR,
                base_ts=base_ts,
                config=_config_json(plan, candles),
                owner=settings.RUN_OWNER,
            )
            await store.create_run(record)
        elif record.status in (RunStatus.FINISHED.value, RunStatus.STOPPED.value):
            raise BadInputError(
                f"RUN_ID: run {run_id!r} already {record.status}; choose another RUN_ID"
            )
        strategy = GridStrategy(plan, np.asarray(record.state) if record.state else None)
        venue = PaperVenue(
            _matching(plan, strategy, await store.orders(frozenset({OrderStatus.OPEN}))),
            replay_ticks(candles, base_ts, start_after=record.clock_ts if record.state else -1),
        )
        outcome = await GridRunner(record, strategy, venue, store, runner_settings(settings)).run()
        fills = [Fill(f.ts, f.side, f.line, f.price, f.qty, f.fee) for f in await store.fills()]
    finally:
        await engine.dispose()
    on_clock = shifted(candles, base_ts)
    equity = equity_from_fills(on_clock, fills, plan.config.investment)
    result = summarize(plan, on_clock, strategy.state, fills, equity)
    return PaperReplayResult(run_id, outcome, result, on_clock)


def _matching(plan: GridPlan, strategy: GridStrategy, open_orders: list) -> MatchingEngine:  # type: ignore[type-arg]
    """A fresh paper account holding the investment, or (resuming) the run's stored book."""
    config = plan.config
    engine = MatchingEngine(
        maker_fee=config.maker_fee,
        taker_fee=config.taker_fee,
        balances=Balances(quote_free=config.investment),
    )
    if strategy.started:
        snap = strategy.snapshot()
        engine.balances = Balances(base_free=snap.base, quote_free=snap.quote)
        for order in open_orders:
            engine.place_limit(
                order.client_order_id, order.side, order.price, order.qty, order.created_ts
            )
    return engine


def _config_json(plan: GridPlan, candles: Candles) -> dict[str, object]:
    c = plan.config
    return {
        "lower": c.lower,
        "upper": c.upper,
        "lines": c.lines,
        "spacing": c.spacing.value,
        "investment": c.investment,
        "maker_fee": c.maker_fee,
        "taker_fee": c.taker_fee,
        "take_profit": c.take_profit,
        "candles": candles.source,
        "candle_count": len(candles),
    }
