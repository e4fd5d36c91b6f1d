"""Runs through the API: start (recorded, then queued), stop, what the run did, the kill switch.

The run's orders, fills and snapshots are written by the run loop's own repository (as a worker
would), then read back through the API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.factories import customer, new_bot
from tradebot.config import Settings
from tradebot.engine.orders import OrderStatus
from tradebot.engine.types import Side
from tradebot.runs.queue import run_job_id
from tradebot.runs.store import SqlRunStore
from tradebot.runtime.store import FillRecord, InventorySnapshot, StoredOrder


async def _start(
    api: httpx.AsyncClient, headers: dict[str, str], bot_id: str, **body: Any
) -> httpx.Response:
    return await api.post("/runs", json={"bot_id": bot_id, **body}, headers=headers)


async def _worked(sessions: async_sessionmaker[AsyncSession], client_id: str, run_id: str) -> None:
    """What a worker's run loop leaves behind: an order, a fill, a snapshot, status running."""
    store = SqlRunStore(sessions, client_id, run_id)
    await store.set_status("running")
    order = StoredOrder(
        f"{run_id[-12:]}-l3", 3, 0, Side.BUY, "limit", 95_000.0, 0.001, OrderStatus.OPEN, 1_000
    )
    await store.add_orders([order])
    fill = FillRecord(
        "t-1", order.client_order_id, Side.BUY, 3, 95_000.0, 0.001, 0.095, "USDT", 2_000
    )
    await store.record_fills([fill], [], [], 2_000)
    await store.add_snapshot(
        InventorySnapshot(3_000, 95_100.0, 0.001, 900.0, 995.1, 1.5, 0.1, 1, 3)
    )


async def test_paper_run_is_recorded_then_queued_with_its_run_id_as_job_id(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    api_settings: Settings,
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers, _client_id = await customer(api, login)
    bot = await new_bot(api, headers)
    started = await _start(api, headers, bot["id"])
    assert started.status_code == 202, started.text
    run = started.json()
    assert (run["status"], run["mode"], run["bot_id"]) == ("created", "paper", bot["id"])
    async with pg_sessions() as session:
        intents = (
            await session.execute(
                text("SELECT action, status FROM run_requests WHERE run_id = :r"), {"r": run["id"]}
            )
        ).all()
    assert [tuple(i) for i in intents] == [("start", "queued")]
    redis = ArqRedis.from_url(api_settings.REDIS_URL)
    try:
        queued = await redis.zrange(api_settings.RUN_QUEUE_NAME, 0, -1)
        assert run_job_id(run["id"]).encode() in queued
    finally:
        await redis.aclose()


async def test_run_status_orders_fills_equity_and_stop(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers, client_id = await customer(api, login)
    bot = await new_bot(api, headers)
    run_id = (await _start(api, headers, bot["id"])).json()["id"]
    await _worked(pg_sessions, client_id, run_id)
    status = (await api.get(f"/runs/{run_id}", headers=headers)).json()
    assert (status["status"], status["open_orders"], status["fills"]) == ("running", 1, 1)
    assert status["latest"]["equity"] == 995.1
    orders = (await api.get(f"/runs/{run_id}/orders", headers=headers)).json()
    assert [o["price"] for o in orders] == [95_000.0]
    fills = (await api.get(f"/runs/{run_id}/fills", headers=headers)).json()
    assert [f["trade_id"] for f in fills] == ["t-1"]
    equity = (await api.get(f"/runs/{run_id}/equity", headers=headers)).json()
    assert equity == [{"ts": 3_000, "equity": 995.1, "price": 95_100.0}]
    assert (await api.get(f"/runs/{run_id}/guards", headers=headers)).json() == []
    stopped = await api.post(f"/runs/{run_id}/stop", headers=headers)
    assert stopped.status_code == 202
    assert stopped.json()["status"] == "running"  # the worker ends it; a stop request is queued
    listed = (await api.get("/runs", headers=headers)).json()
    assert [r["id"] for r in listed] == [run_id]


async def test_stopping_a_run_not_yet_taken_ends_it(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(api, login)
    bot = await new_bot(api, headers)
    run_id = (await _start(api, headers, bot["id"])).json()["id"]
    stopped = (await api.post(f"/runs/{run_id}/stop", headers=headers)).json()
    assert (stopped["status"], stopped["stop_reason"]) == ("stopped", "stopped by user")
    again = await api.post(f"/runs/{run_id}/stop", headers=headers)
    assert again.json()["status"] == "stopped"


async def test_trial_allows_one_running_bot_and_no_live_trading(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(api, login)
    bot = await new_bot(api, headers)
    live = await _start(api, headers, bot["id"], live=True)
    assert live.status_code == 402
    assert live.json()["type"] == "/problems/payment-required"
    assert (await _start(api, headers, bot["id"])).status_code == 202
    second = await _start(api, headers, bot["id"])
    assert second.status_code == 403
    assert second.json()["type"] == "/problems/plan-limit"
    assert len((await api.get("/runs", headers=headers)).json()) == 1


async def test_kill_switch_stops_runs_and_blocks_new_ones_until_operator_reset(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    admin_headers: dict[str, str],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers, client_id = await customer(api, login)
    bot = await new_bot(api, headers)
    run_id = (await _start(api, headers, bot["id"])).json()["id"]
    await SqlRunStore(pg_sessions, client_id, run_id).set_status("running")
    tripped = await api.post("/kill-switch", json={"reason": "market chaos"}, headers=headers)
    assert tripped.status_code == 200, tripped.text
    assert tripped.json()["active"] is True
    assert tripped.json()["runs_stopped"] == [run_id]
    guards = (await api.get(f"/runs/{run_id}/guards", headers=headers)).json()
    assert [g["guard"] for g in guards] == ["kill_switch"]
    await SqlRunStore(pg_sessions, client_id, run_id).set_status("stopped", "kill switch")
    blocked = await _start(api, headers, bot["id"])
    assert blocked.status_code == 409
    reset = await api.post(f"/clients/{client_id}/guards/reset", headers=admin_headers)
    assert reset.status_code == 200, reset.text
    assert (await api.get("/kill-switch", headers=headers)).json()["active"] is False
    assert (await _start(api, headers, bot["id"])).status_code == 202


async def test_run_status_has_the_grid_it_trades_now_and_its_own_clock(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers, client_id = await customer(api, login)
    bot = await new_bot(api, headers)
    run_id = (await _start(api, headers, bot["id"])).json()["id"]
    status = (await api.get(f"/runs/{run_id}", headers=headers)).json()
    saved = {k: bot["grid"][k] for k in ("lower", "upper", "lines", "spacing", "investment")}
    assert status["grid"] == saved  # the bot's grid, until the run trades another
    assert (status["clock_ts"], status["started_ts"]) == (0, None)

    await _worked(pg_sessions, client_id, run_id)  # its first snapshot at 3 000 ms
    store = SqlRunStore(pg_sessions, client_id, run_id)
    await store.save_state([], 7_203_000)  # two hours of its market later
    record = await store.load_run()
    assert record is not None
    edited = {**record.config, "lower": 94_000.0, "upper": 97_000.0, "lines": 7}
    await store.save_config(edited)  # as the run loop does when it applies an edit

    status = (await api.get(f"/runs/{run_id}", headers=headers)).json()
    assert (status["clock_ts"], status["started_ts"]) == (7_203_000, 3_000)
    assert status["grid"] == {**saved, "lower": 94_000.0, "upper": 97_000.0, "lines": 7}
    bot_now = (await api.get(f"/bots/{bot['id']}", headers=headers)).json()
    assert bot_now["grid"]["lines"] == saved["lines"]  # the bot keeps its saved grid
