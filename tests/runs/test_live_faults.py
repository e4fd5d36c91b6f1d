"""Faults on the live path, through the real ccxt client against the simulator.

Each fault lands at a known moment of a stepped sandbox run; afterwards the run must have
finished with exactly the backtest's fills (nothing lost, nothing doubled) or stopped cleanly
with its reason stored. Each test names the naive implementation it would catch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.runs.live_fixtures import (
    GRID,
    RULES,
    WINDOW,
    assert_fills_as_charged,
    live_client,
    live_settings,
    stop_after,
    when_walked,
)
from tests.venues.sim_fixtures import KEY, account, control, running_sim, sim_config
from tradebot.admin.operations import Operations
from tradebot.candles.io import bundled, load_candles
from tradebot.db import transaction
from tradebot.engine.orders import OrderStatus
from tradebot.engine.plan import build_plan
from tradebot.engine.types import Fill
from tradebot.models.runs import BotGuardState, BotOrder
from tradebot.research.backtest import run_backtest
from tradebot.runs.configuration import KeyNoLongerSafeError
from tradebot.runs.live import LiveOptions, run_on_live_data, run_patiently
from tradebot.runs.store import SqlRunStore, trip_kill_switch
from tradebot.runtime.ids import client_order_id
from tradebot.runtime.runner import RunBlockedError, RunOutcome
from tradebot.runtime.store import FillRecord
from tradebot.venues.exchange_sim import LimitsConfig, MarketConfig
from tradebot.venues.retry import Backoff

ORDER = {"path": "/api/v3/order", "method": "POST"}
CANDLES = load_candles(bundled()).slice(*WINDOW)


async def _inject(url: str, at_segment: int, body: dict[str, Any]) -> None:
    """Install faults once the market has walked ``at_segment`` segments."""
    await when_walked(url, at_segment)
    await control(url, "POST", "/_sim/faults", body)


class Sandbox:
    def __init__(self, pg_url: str, sessions: Any, master_key: str) -> None:
        self.pg_url, self.sessions, self.master_key = pg_url, sessions, master_key

    async def run(
        self,
        faults: list[tuple[int, dict[str, Any]]],
        after: Callable[[], Awaitable[None]] | None = None,
        candles: Any = CANDLES,
        go: Callable[[Any], Awaitable[RunOutcome]] | None = None,
        limits: LimitsConfig | None = None,
        **overrides: Any,
    ) -> tuple[RunOutcome, Any, dict[str, Any]]:
        """One stepped sandbox run with ``faults`` injected (``go(settings)`` runs it when
        given); ``after`` runs while the simulator is still up."""
        config = sim_config(
            candles,
            [account(usdt=2_000.0, btc=0.0)],
            market=MarketConfig(maker_fee=0.0005, taker_fee=0.001),
            limits=limits,
        )
        async with running_sim(config) as sim:
            self.url = sim.url
            client = await live_client(self.sessions, sim.url, self.master_key)
            settings = live_settings(
                client,
                master_key=self.master_key,
                **{**GRID, "EXCHANGE_TIMEOUT_MS": 1_000, "NOT_FOUND_GRACE_MS": 300, **overrides},
            )
            injections = [asyncio.create_task(_inject(sim.url, at, body)) for at, body in faults]
            outcome = await (go or self.go)(settings)
            for task in injections:
                task.cancel()
            exchange = await control(sim.url, "GET", f"/_sim/accounts/{KEY}")
            self.settings, self.client = settings, client
            if after is not None:
                await after()
            return outcome, settings, exchange

    async def go(self, settings: Any, stop: asyncio.Event | None = None) -> RunOutcome:
        options = LiveOptions(sandbox_url=self.url, sandbox_step=True, stop=stop)
        return await run_on_live_data(settings, options, database_url=self.pg_url)

    async def go_patiently(self, settings: Any) -> RunOutcome:
        """``go``, started again while it fails in a way that may pass (as ``tradebot run``)."""
        options = LiveOptions(sandbox_url=self.url, sandbox_step=True)
        quick = Backoff(attempts=4, base_s=0.05)
        return await run_patiently(settings, options, database_url=self.pg_url, backoff=quick)

    async def fills(self) -> list[FillRecord]:
        return await SqlRunStore(self.sessions, self.client, self.settings.RUN_ID).fills()


@pytest.fixture
def sandbox(pg_url, sessions, master_key):
    return Sandbox(pg_url, sessions, master_key)


def _backtest_fills(settings: Any) -> list[Fill]:
    return run_backtest(build_plan(settings.grid_config(), RULES), CANDLES).fills


def _no_duplicates(exchange: dict[str, Any]) -> None:
    ids = [o["client_order_id"] for o in exchange["orders_detail"]]
    assert len(ids) == len(set(ids))
    assert exchange["duplicate_client_order_ids"] == {}
    open_prices = [o["price"] for o in exchange["orders_detail"] if o["status"] == "NEW"]
    assert len(open_prices) == len(set(open_prices))


async def _finished_like_the_backtest(sandbox: Sandbox, outcome, settings, exchange) -> None:
    assert outcome.status == "finished", outcome.reason
    _no_duplicates(exchange)
    # The backtest's fills, with the fees the simulator charged as Binance does.
    assert_fills_as_charged(
        await sandbox.fills(), _backtest_fills(settings), "BTC", "USDT", RULES.lot_step
    )


async def test_a_market_buy_whose_answer_is_lost_is_never_sent_again(sandbox):
    # Naive: resend the POST on a dropped answer; the market buy fills twice (double base).
    faults = [(0, {"rules": [{"kind": "drop", "phase": "after", **ORDER}]})]
    outcome, settings, exchange = await sandbox.run(faults)
    markets = [o for o in exchange["orders_detail"] if o["type"] == "MARKET"]
    assert len(markets) == 1
    await _finished_like_the_backtest(sandbox, outcome, settings, exchange)


async def test_a_timed_out_counter_order_is_asked_for_and_adopted(sandbox):
    # Naive: treat the timeout as a failure and place the counter order again: two sells on
    # one line, one of them unfunded.
    faults = [(6, {"rules": [{"kind": "timeout", "phase": "after", "hold_s": 2, **ORDER}]})]
    outcome, settings, exchange = await sandbox.run(faults)
    await _finished_like_the_backtest(sandbox, outcome, settings, exchange)


async def test_a_rejected_post_is_confirmed_absent_then_placed_once_under_a_new_id(sandbox):
    # Naive: never resend after an error: the line stays empty and its fills are lost.
    faults = [(6, {"rules": [{"kind": "5xx", "phase": "before", **ORDER}]})]
    outcome, settings, exchange = await sandbox.run(faults)
    await _finished_like_the_backtest(sandbox, outcome, settings, exchange)
    # The one order the 5xx refused never reached the book; the same leg went out once more
    # under the line's next sequence, and the exchange has it at the same price and side.
    store = SqlRunStore(sandbox.sessions, sandbox.client, sandbox.settings.RUN_ID)
    (refused,) = await store.orders(frozenset({OrderStatus.REJECTED}))
    on_exchange = {o["client_order_id"]: o for o in exchange["orders_detail"]}
    assert refused.client_order_id not in on_exchange
    again = client_order_id(settings.RUN_ID, refused.side, refused.line, refused.seq + 1)
    assert float(on_exchange[again]["price"]) == refused.price
    assert on_exchange[again]["side"].lower() == refused.side.value
    placed = [o for o in await store.orders() if o.client_order_id == again]
    assert [(o.line, o.side, o.price, o.qty) for o in placed] == [
        (refused.line, refused.side, refused.price, refused.qty)
    ]


async def test_not_found_for_a_fresh_order_is_not_cancelled(sandbox):
    # Naive: "order not found" == cancelled: the order that does exist gets a twin on its line.
    # For a second of our time every new order answers -2013 while the stepped market runs on
    # (hours of it), so fills come in late and out of order; nothing may double or go missing.
    # Each lagging order is asked about at every 50 ms poll: far more request weight than the
    # exchange allows, and its 429s (tested on their own) are not this test's subject.
    lag = {"visibility_lag_s": 1.0, "rules": [{"kind": "drop", "phase": "after", **ORDER}]}
    unlimited = LimitsConfig(weight_limit=10**7)
    outcome, _, exchange = await sandbox.run([(6, lag)], limits=unlimited, NOT_FOUND_GRACE_MS=3_000)
    assert outcome.status == "finished", outcome.reason
    _no_duplicates(exchange)
    store = SqlRunStore(sandbox.sessions, sandbox.client, sandbox.settings.RUN_ID)
    recorded = sorted(f.trade_id for f in await store.fills())
    assert recorded == sorted(f"BTC/USDT:{t['id']}" for t in exchange["trades_detail"])


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "garbage", "path": "/api/v3/openOrders", "count": 3},
        {"kind": "429", "path": "/api/v3/ticker/24hr", "count": 2, "retry_after_s": 1},
        {"kind": "5xx", "path": "/api/v3/order", "method": "GET", "count": 2},
    ],
    ids=["garbage", "429", "5xx-on-query"],
)
async def test_read_faults_are_retried_without_losing_a_fill(sandbox, rule):
    # Naive: a garbled or refused read crashes the run, or is taken as "no open orders".
    outcome, settings, exchange = await sandbox.run([(9, {"rules": [rule]})])
    await _finished_like_the_backtest(sandbox, outcome, settings, exchange)


async def test_trades_a_failed_poll_did_not_fetch_are_fetched_at_the_next(sandbox):
    # Naive: an order found no longer open leaves the watch list before its trades are in
    # hand; when fetching them fails (every retry of the read), the fill is never seen again:
    # the grid goes on with a stale book and places orders a fill had already ruled out.
    rule = {"kind": "5xx", "path": "/api/v3/myTrades", "count": 4}  # all retries of one read
    outcome, settings, exchange = await sandbox.run([(9, {"rules": [rule]})])
    await _finished_like_the_backtest(sandbox, outcome, settings, exchange)


async def _stopped_with_orders_resting(sandbox: Sandbox, settings: Any) -> tuple[RunOutcome, int]:
    """The run, stopped plainly after 12 segments, and its orders (at least 4) left resting."""
    stop = asyncio.Event()
    stopping = asyncio.create_task(stop_after(sandbox.url, 12, stop))
    first = await sandbox.go(settings, stop)
    await stopping
    assert first.status == "stopped", first.reason
    resting = int((await control(sandbox.url, "GET", f"/_sim/accounts/{KEY}"))["open_orders"])
    assert resting >= 4
    return first, resting


async def test_orders_a_restart_could_not_ask_about_are_asked_again_before_any_placement(
    sandbox,
):
    # Naive: skip an order whose query failed while reconciling at the restart: it is never
    # watched again, its fills are never seen, and the grid trades on a stale book.
    async def stop_then_restart(settings: Any) -> RunOutcome:
        __, resting = await _stopped_with_orders_resting(sandbox, settings)
        # The restart's read of the open orders fails, and so does each query it then falls
        # back to, each after all its retries.
        listing = {"kind": "5xx", "path": "/api/v3/openOrders", "method": "GET", "count": 4}
        query = {"kind": "5xx", "path": "/api/v3/order", "method": "GET", "count": 4 * resting}
        await control(sandbox.url, "POST", "/_sim/faults", {"rules": [listing, query]})
        return await sandbox.go(settings)

    outcome, settings, exchange = await sandbox.run(
        [], go=stop_then_restart, MAX_API_ERRORS_PER_MIN=1_000
    )
    await _finished_like_the_backtest(sandbox, outcome, settings, exchange)


async def _working(sandbox: Sandbox, settings: Any) -> int:
    """The run's orders stored as working on the exchange."""
    async with transaction(sandbox.sessions) as session:
        working = await session.scalar(
            select(func.count())
            .select_from(BotOrder)
            .where(
                BotOrder.run_id == settings.RUN_ID,  # type: ignore[arg-type]
                BotOrder.status.in_(["open", "partially_filled"]),  # type: ignore[attr-defined]
            )
        )
    return int(working or 0)


async def test_a_restart_reads_its_resting_book_in_one_request(sandbox):
    # Naive: ask for each resting order at a restart (4 weight each on Binance, 10-16 orders a
    # grid): a worker restarting many runs spends the IP's budget its runs' restarts need.
    async def stop_then_reconcile(settings: Any) -> RunOutcome:
        __, resting = await _stopped_with_orders_resting(sandbox, settings)
        await control(sandbox.url, "POST", "/_sim/reset_limits", {})
        stopped = asyncio.Event()
        stopped.set()  # the restart reconciles, then stops before its first tick
        again = await sandbox.go(settings, stopped)
        asked = (await control(sandbox.url, "GET", "/_sim/state"))["requests"]
        assert asked.get("GET /api/v3/openOrders") == 1
        assert asked.get("GET /api/v3/order", 0) == 0  # every resting order was listed
        assert asked.get("DELETE /api/v3/order", 0) == 0
        account_now = await control(sandbox.url, "GET", f"/_sim/accounts/{KEY}")
        assert int(account_now["open_orders"]) == resting
        assert await _working(sandbox, settings) == resting  # adopted, none dropped
        return again

    outcome, __, ___ = await sandbox.run([], go=stop_then_reconcile)
    assert outcome.status == "stopped", outcome.reason


async def test_a_run_waits_out_an_exchange_that_fails_its_start(sandbox):
    # Naive: the run dies when the markets cannot be loaded once (all retries of the read);
    # restarted at once by its supervisor, it asks again and again, spending the request
    # budget every run behind the IP shares.
    async def start_while_failing(settings: Any) -> RunOutcome:
        markets = {"kind": "5xx", "path": "/api/v3/exchangeInfo", "count": 6}
        await control(sandbox.url, "POST", "/_sim/faults", {"rules": [markets]})
        return await sandbox.go_patiently(settings)

    outcome, settings, exchange = await sandbox.run([], go=start_while_failing)
    await _finished_like_the_backtest(sandbox, outcome, settings, exchange)


async def test_a_run_process_asks_again_when_the_key_recheck_is_not_answered(sandbox):
    # Naive: exit at once on a key re-check the exchange did not answer (fail closed, right),
    # to be restarted at once by the supervisor: a crash loop asking the exchange every second.
    # The run stays refused until the exchange answers, then starts by itself. Each check
    # asks three times before it refuses: refused twice (one start alone, then the first
    # patient one), then answered.
    busy = {"kind": "429", "path": "/sapi/v1/account/apiRestrictions", "count": 6}

    async def start_while_unanswered(settings: Any) -> RunOutcome:
        await control(sandbox.url, "POST", "/_sim/faults", {"rules": [busy]})
        with pytest.raises(KeyNoLongerSafeError, match="did not confirm") as refused:
            await sandbox.go(settings)
        assert refused.value.retryable
        assert not refused.value.can_withdraw
        return await sandbox.go_patiently(settings)

    outcome, settings, exchange = await sandbox.run([], go=start_while_unanswered)
    await _finished_like_the_backtest(sandbox, outcome, settings, exchange)


async def _guard_rows(sandbox: Sandbox) -> list[tuple[str, bool, str | None]]:
    async with transaction(sandbox.sessions) as session:
        rows = (
            (
                await session.execute(
                    select(BotGuardState).where(BotGuardState.client_id == sandbox.client)
                )
            )
            .scalars()
            .all()
        )
    return [(r.guard, r.active, r.run_id) for r in rows]


async def test_a_stale_ticker_trips_cancels_the_book_and_blocks_restarts_until_reset(sandbox):
    outcome, settings, exchange = await sandbox.run([(9, {"stale": True})], STALE_TICKER_MS=400)
    assert outcome.status == "tripped"
    assert outcome.reason.startswith("stale_ticker")
    assert exchange["open_orders"] == 0  # the trip cancelled every resting order
    assert await _guard_rows(sandbox) == [("stale_ticker", True, settings.RUN_ID)]


@pytest.mark.parametrize(
    ("overrides", "faults", "guard"),
    [
        ({"MAX_RUN_LOSS_USD": 0.5}, [], "max_run_loss"),
        ({"MAX_GLOBAL_DRAWDOWN_USD": 0.5}, [], "max_global_drawdown"),
        (
            {"MAX_API_ERRORS_PER_MIN": 3},
            [(6, {"rules": [{"kind": "5xx", "path": "/api/v3/ticker/24hr", "count": 40}]})],
            "max_api_errors",
        ),
    ],
    ids=["run-loss", "global-drawdown", "api-errors"],
)
async def test_each_guard_trips_and_stops_the_run(sandbox, overrides, faults, guard):
    outcome, _, exchange = await sandbox.run(faults, **overrides)
    assert outcome.status == "tripped", outcome.reason
    assert outcome.reason.startswith(guard)
    assert exchange["open_orders"] == 0


async def test_a_tripped_run_resumes_only_after_an_operator_reset(sandbox):
    resumed: list[RunOutcome] = []

    async def restart() -> None:
        await control(sandbox.url, "POST", "/_sim/faults", {"stale": False})
        with pytest.raises(RunBlockedError, match="an operator must reset it"):
            await sandbox.go(sandbox.settings)
        await Operations(sandbox.sessions, actor="ops").reset_guards(sandbox.client)
        resumed.append(await sandbox.go(sandbox.settings))

    outcome, _, _ = await sandbox.run([(20, {"stale": True})], after=restart, STALE_TICKER_MS=400)
    assert outcome.status == "tripped"
    assert [active for _, active, _ in await _guard_rows(sandbox)] == [False]
    assert resumed[0].status == "finished", resumed[0].reason


async def test_a_kill_switch_tripped_while_no_run_is_driven_cancels_its_orders_at_restart(
    sandbox,
):
    # Naive: a run refused for its trip at restart leaves the orders its last process left
    # resting: the grid keeps filling on the exchange after the kill switch.
    async def stop_trip_restart(settings: Any) -> RunOutcome:
        first, __ = await _stopped_with_orders_resting(sandbox, settings)
        await trip_kill_switch(sandbox.sessions, settings.CLIENT_ID, "kill_switch", "ops", 0)
        with pytest.raises(RunBlockedError, match="an operator must reset it"):
            await sandbox.go(settings)
        return first

    _, _, exchange = await sandbox.run([], go=stop_trip_restart)
    assert exchange["open_orders"] == 0
    assert await _working(sandbox, sandbox.settings) == 0


async def test_an_entry_limit_that_lags_is_replaced_then_bought_at_market(sandbox):
    # Naive: leave the maker entry order waiting forever while the grid sits without its base,
    # or replace it without cancelling first (two entry orders buying twice the base).
    # 2024-12-02 08:25: the first candle rises before it falls, so the entry bid at the open
    # is left behind by more than the allowed slippage and must be replaced.
    outcome, _, exchange = await sandbox.run(
        [],
        candles=load_candles(bundled()).slice(1945, 2035),
        ENTRY_ORDER="limit",
        REPLACE_TIMEOUT_MS=150,
        REPLACE_SLIPPAGE_PCT=0.001,
        REPLACE_MAX_RETRIES=2,
    )
    assert outcome.status == "finished", outcome.reason
    _no_duplicates(exchange)
    entries = [o for o in exchange["orders_detail"] if "bm-" in o["client_order_id"]]
    kinds = [(o["type"], o["status"]) for o in entries]
    assert len(entries) <= 4  # the first limit, at most two replacements, then the market
    assert sum(status == "FILLED" for _, status in kinds) == 1  # the base is bought once
    assert all(status in ("CANCELED", "FILLED") for _, status in kinds)
    assert ("LIMIT", "CANCELED") in kinds
