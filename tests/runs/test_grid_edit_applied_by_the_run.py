"""A grid edit recorded by the API is taken by the run loop mid-run, applied as a regime
re-centre moves a grid, and the run trades the new grid (its request ``done``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import text
from structlog.testing import capture_logs

from tests.runs.paper_day import paper_day
from tradebot.engine.orders import OrderStatus
from tradebot.engine.types import GridConfig
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.models.runs import RunMode
from tradebot.runs.grid_edit import GridEditRequests, SqlGridEdits
from tradebot.runs.launcher import database, grid_json, prepare_run, runner_settings
from tradebot.runs.schemas import GridEdit
from tradebot.runtime.grid_edits import GridEdit as RunGridEdit
from tradebot.runtime.ports import OrderReport, TransientVenueError
from tradebot.runtime.runner import GridRunner
from tradebot.venues.paper import PaperVenue
from tradebot.venues.replay import replay_ticks


class AfterTicks(SqlGridEdits):
    """The edits of the run, seen from the ``after``-th tick on (the API asks mid-run)."""

    def __init__(self, *args: object, after: int) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.calls, self.after = 0, after

    async def take(self):  # type: ignore[no-untyped-def]
        self.calls += 1
        return await super().take() if self.calls >= self.after else None


async def test_an_edit_is_applied_by_the_running_loop(sqlite_url: str) -> None:
    day = paper_day("edited", days=2)
    candles, plan, settings, base_ts = day.candles, day.plan, day.settings, day.base_ts
    async with database(sqlite_url) as sessions:
        run = await prepare_run(
            sessions,
            settings,
            plan,
            mode=RunMode.PAPER,
            base_ts=base_ts,
            config=grid_json(plan),
        )
        scope = ClientScope.of("default")
        async with client_transaction(sessions, scope) as session:
            await GridEditRequests(session, scope).record(
                "edited", "user", GridEdit(lower=94_000, upper=99_000, lines=12)
            )
        edits = AfterTicks(sessions, "default", "edited", after=1_500)
        venue = PaperVenue(
            day.account(),
            replay_ticks(candles, base_ts, start_after=-1),
        )
        runner = GridRunner(
            run.record,
            run.strategy,
            venue,
            run.store,
            runner_settings(settings, paper=True),
            grid_edits=edits,
        )
        with capture_logs() as logs:
            outcome = await runner.run()
        assert outcome.status == "finished", outcome.reason
        applied = [e for e in logs if e["event"] == "grid_edit_applied"]
        assert len(applied) == 1
        edit_ts = applied[0]["ts"]
        record = await run.store.load_run()
        assert record is not None
        assert (record.config["lower"], record.config["upper"], record.config["lines"]) == (
            94_000,
            99_000,
            12,
        )
        fills = await run.store.fills()
        after = [f for f in fills if f.ts > edit_ts and f.line >= 0]
        before = [f for f in fills if f.ts < edit_ts and f.line >= 0]
        assert len(after) > 4, (len(before), len(after))
        lines = set(run.strategy.plan.prices.tolist())
        assert all(f.price in lines for f in after)
        assert len(run.strategy.plan.prices) == 12
        async with sessions() as session:
            status = (
                await session.execute(
                    text(
                        "SELECT status FROM run_requests WHERE run_id = 'edited' "
                        "AND action = 'grid'"
                    )
                )
            ).scalar_one()
        assert status == "done"
        open_orders = await run.store.orders(frozenset({OrderStatus.OPEN}))
        assert all(94_000 * 0.999 <= o.price <= 99_000 * 1.001 for o in open_orders)


@dataclass
class EditAbove:
    """The run's edits in memory (the store's side of the port): at the ``at``-th ask, a grid
    from just under the market to 8% above it, nearly all of whose lines are sells."""

    venue: PaperVenue
    at: int
    calls: int = 0
    moved_to: list[GridConfig] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    async def take(self) -> RunGridEdit | None:
        self.calls += 1
        price = self.venue.engine.last_price
        if self.calls != self.at or price is None:
            return None
        return RunGridEdit(1, lower=price * 0.995, upper=price * 1.08, lines=12)

    async def applied(self, edit: RunGridEdit, config: GridConfig) -> None:
        self.moved_to.append(config)

    async def refused(self, edit: RunGridEdit, reason: str) -> None:
        self.refusals.append(reason)


class CancelsLost(PaperVenue):
    """The paper venue, whose first ``lost`` cancels time out (the venue never saw them)."""

    def __init__(self, *args: Any, lost: int) -> None:
        super().__init__(*args)
        self.cancels, self.lost = 0, lost

    async def cancel(self, client_order_id: str) -> OrderReport | None:
        self.cancels += 1
        if self.cancels <= self.lost:
            raise TransientVenueError("cancel timed out")
        return await super().cancel(client_order_id)


@pytest.mark.parametrize("cancels_lost", [0, 5])
async def test_an_edit_that_needs_base_buys_it_with_the_quote_the_old_buys_held(
    sqlite_url: str, cancels_lost: int
) -> None:
    """The old grid's buys hold most of the quote; the new grid wants it as base. Unless they
    are cancelled (and the venue has confirmed it) before the market buy, the exchange refuses
    it for funds and the run trips."""
    day = paper_day("moved-up")
    candles, plan, settings, base_ts = day.candles, day.plan, day.settings, day.base_ts
    venue = CancelsLost(
        day.account(),
        replay_ticks(candles, base_ts, start_after=-1),
        lost=cancels_lost,
    )
    edits = EditAbove(venue, at=200)
    async with database(sqlite_url) as sessions:
        run = await prepare_run(
            sessions, settings, plan, mode=RunMode.PAPER, base_ts=base_ts, config=grid_json(plan)
        )
        runner = GridRunner(
            run.record,
            run.strategy,
            venue,
            run.store,
            runner_settings(settings, paper=True),
            grid_edits=edits,
        )
        outcome = await runner.run()
    assert outcome.status == "finished", outcome.reason
    assert edits.refusals == []
    assert len(edits.moved_to) == 1
    assert run.strategy.plan.config == edits.moved_to[0]
    assert venue.cancels > cancels_lost  # the edit's cancels (the first of the run) went out
