"""Live trading through the real ccxt client against the local Binance simulator.

Stepped one segment per poll, the live path sees the market as the paper replay does, so its
fills must be the fast backtest's on the same candles and rounding, with the fees the exchange
charged (a buy's out of the base it delivered, so the sells are what the grid really holds) and
the run's balances the account's.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.runs.live_fixtures import (
    GRID,
    RULES,
    WINDOW,
    assert_fills_as_charged,
    live_client,
    live_settings,
    run_stepped,
)
from tests.venues.sim_fixtures import KEY, account, control, running_sim, sim_config
from tradebot.candles.io import bundled, load_candles
from tradebot.db import transaction
from tradebot.engine import core
from tradebot.engine.plan import build_plan
from tradebot.engine.types import Side
from tradebot.models.runs import BotGuardState, BotOrder
from tradebot.research.backtest import run_backtest
from tradebot.runs.configuration import KeyNoLongerSafeError
from tradebot.runs.live import LiveOptions, run_on_live_data
from tradebot.runs.store import SqlRunStore
from tradebot.venues.exchange_sim import MarketConfig


async def test_a_live_grid_through_ccxt_matches_the_backtest(pg_url, sessions, master_key):
    candles = load_candles(bundled()).slice(*WINDOW)
    config = sim_config(
        candles,
        [account(usdt=2_000.0, btc=0.0)],
        market=MarketConfig(maker_fee=0.0005, taker_fee=0.001),
    )
    settings, outcome, state = await run_stepped(sessions, pg_url, master_key, config, GRID)
    assert outcome.status == "finished", outcome.reason

    plan = build_plan(settings.grid_config(), RULES)
    backtest = run_backtest(plan, candles)
    assert backtest.round_trips == 9
    store = SqlRunStore(sessions, settings.CLIENT_ID, settings.RUN_ID)
    fills = await store.fills()
    assert_fills_as_charged(fills, backtest.fills, "BTC", "USDT", RULES.lot_step)
    assert {f.fee_currency for f in fills if f.side is Side.BUY} == {"BTC"}
    # The run's balances are the account's: base to one lot step (8 decimals of each fee),
    # quote to what the 8-decimal strings leave.
    record = await store.load_run()
    assert record is not None
    held = state["balances"]
    assert record.state[core.BASE] == pytest.approx(
        held["BTC"]["free"] + held["BTC"]["locked"], abs=RULES.lot_step
    )
    assert record.state[core.QUOTE] == pytest.approx(
        held["USDT"]["free"] + held["USDT"]["locked"], abs=1e-4
    )
    # The exchange saw exactly one order per client order id and no duplicate.
    coids = [o["client_order_id"] for o in state["orders_detail"]]
    assert len(coids) == len(set(coids))
    assert state["duplicate_client_order_ids"] == {}
    async with transaction(sessions) as session:
        ours = (
            (
                await session.execute(
                    select(BotOrder.client_order_id).where(BotOrder.run_id == settings.RUN_ID)
                )
            )
            .scalars()
            .all()
        )
    assert sorted(ours) == sorted(coids)


async def test_a_withdraw_enabled_key_trips_the_kill_switch_and_never_trades(
    pg_url, sessions, master_key
):
    config = sim_config(load_candles(bundled()).slice(0, 30), [account(usdt=2_000.0, btc=0.0)])
    async with running_sim(config) as sim:
        client = await live_client(sessions, sim.url, master_key)
        await control(
            sim.url, "POST", f"/_sim/accounts/{KEY}/permissions", {"enableWithdrawals": True}
        )
        settings = live_settings(client, master_key, **GRID)
        with pytest.raises(KeyNoLongerSafeError, match="withdrawals enabled"):
            await run_on_live_data(
                settings, LiveOptions(sandbox_url=sim.url, sandbox_step=True), database_url=pg_url
            )
        state = await control(sim.url, "GET", f"/_sim/accounts/{KEY}")
    assert state["orders"] == 0
    async with transaction(sessions) as session:
        trips = (
            (await session.execute(select(BotGuardState).where(BotGuardState.client_id == client)))
            .scalars()
            .all()
        )
    assert [(t.guard, t.active, t.run_id) for t in trips] == [("key_permissions", True, None)]
