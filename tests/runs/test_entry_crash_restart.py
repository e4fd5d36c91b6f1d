"""A run that dies right after its entry buy filled restarts without buying the entry again:
the restart asks the venue about the order and records its trade instead of topping the base
up anew. It died before the buy's trade was recorded (the venue's "filled" answer stored as
OPEN, so the order is among the active ones a restart reconciles), or even before that answer
was stored (the order still SUBMITTING, completed by the trade the restart finds).

Naive implementations caught: the venue's "filled" stored as it came, which leaves the order
out of the active orders a restart reconciles (and a live exchange would be bought on twice);
a found trade that completes a SUBMITTING order turned into OPEN, which holds the entry open.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tests.runs.paper_day import paper_day
from tradebot.engine.orders import OrderStatus
from tradebot.models.runs import RunMode
from tradebot.runs.launcher import database, grid_json, prepare_run, runner_settings
from tradebot.runs.store import SqlRunStore
from tradebot.runtime.runner import GridRunner
from tradebot.runtime.store import FillRecord, OrderUpdate, StoredOrder
from tradebot.venues.paper import PaperVenue
from tradebot.venues.replay import replay_ticks


class ProcessDied(Exception):
    """The run's process is gone: nothing of the call that raised it was stored."""


class DiesAtItsFirstFills(SqlRunStore):
    """The process dies as the entry's trade is being recorded."""

    async def record_fills(
        self,
        fills: list[FillRecord],
        updates: list[OrderUpdate],
        state: list[float],
        clock_ts: int,
        orders: Sequence[StoredOrder] = (),
    ) -> list[FillRecord]:
        raise ProcessDied


class DiesAtItsFirstAnswer(SqlRunStore):
    """The process dies as the venue's answer to the entry buy is being stored."""

    async def update_orders(self, updates: list[OrderUpdate]) -> None:
        if updates:  # the run's start stores what it reconciled: nothing, the first time
            raise ProcessDied


@pytest.mark.parametrize("dying_store", [DiesAtItsFirstFills, DiesAtItsFirstAnswer])
async def test_a_run_killed_before_its_entry_trade_is_recorded_buys_the_entry_once(
    sqlite_url: str, dying_store: type[SqlRunStore]
) -> None:
    day = paper_day("entry")
    candles, plan, settings, base_ts = day.candles, day.plan, day.settings, day.base_ts
    venue = PaperVenue(
        day.account(),
        replay_ticks(candles, base_ts, start_after=-1),
    )
    async with database(sqlite_url) as sessions:

        async def runner(dying: bool) -> GridRunner:
            run = await prepare_run(
                sessions,
                settings,
                plan,
                mode=RunMode.PAPER,
                base_ts=base_ts,
                config=grid_json(plan),
            )
            store = dying_store(sessions, "default", "entry") if dying else run.store
            paper = runner_settings(settings, paper=True)
            return GridRunner(run.record, run.strategy, venue, store, paper)

        try:
            await (await runner(dying=True)).run()
        except ProcessDied:
            pass
        else:
            raise AssertionError("the first run never got to its entry's trade")
        restarted = await runner(dying=False)
        outcome = await restarted.run()
        fills = await restarted.store.fills()
        entries = [o for o in await restarted.store.orders() if o.line < 0]
        held_open = [o for o in restarted.orders.active.values() if o.line < 0]

    assert outcome.status == "finished", outcome.reason
    assert len(entries) == 1, entries  # bought once, by the run that died
    assert entries[0].status is OrderStatus.FILLED
    assert held_open == []  # completed by its trade, not held open (it would block top-ups)
    assert [f.client_order_id for f in fills if f.line < 0] == [entries[0].client_order_id]
