"""Editing a running grid: the preview (orders cancelled and placed, base bought, capital
change, new plan) from the engine on the run's stored state, and the edit recorded for the run
loop (``SqlGridEdits``), which applies it as a regime re-centre does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.factories import GRID, customer, new_bot
from tradebot.bots.schemas import GridSpec
from tradebot.engine import core
from tradebot.engine.orders import OrderStatus
from tradebot.engine.plan import build_plan
from tradebot.engine.strategy import GridStrategy
from tradebot.engine.types import GridConfig, Side
from tradebot.runs.grid_edit import SqlGridEdits
from tradebot.runs.store import SqlRunStore
from tradebot.runtime.book import diff_book
from tradebot.runtime.grid_edits import edited_config
from tradebot.runtime.store import InventorySnapshot, StoredOrder
from tradebot.venues.catalog import offline_rules

START_PRICE = 97_000.0
NOW_PRICE = 96_500.0


async def _trading_run(
    api: httpx.AsyncClient, headers: dict[str, str], sessions: async_sessionmaker[AsyncSession]
) -> tuple[str, SqlRunStore, GridStrategy]:
    """A run of ``GRID`` that started at 97,000 as the run loop does: base bought at market,
    the grid's orders resting, a snapshot at 96,500."""
    bot = await new_bot(api, headers)
    run_id = (await api.post("/runs", json={"bot_id": bot["id"]}, headers=headers)).json()["id"]
    client_id = (await api.get("/me", headers=headers)).json()["client_id"]
    store = SqlRunStore(sessions, client_id, run_id)
    strategy = GridStrategy(
        build_plan(GridSpec.model_validate(GRID).config(), offline_rules("BTC/USDT"))
    )
    b0 = strategy.begin(START_PRICE)
    strategy.on_market_fill(Side.BUY, START_PRICE, b0, b0 * START_PRICE * 0.001)
    await store.set_status("running")
    await store.save_state(strategy.state.tolist(), 1_000)
    await store.add_orders(
        [
            StoredOrder(f"{run_id[-8:]}-{w.line}", w.line, 0, w.side, "limit", w.price, w.qty,
                        OrderStatus.OPEN, 1_000)
            for w in strategy.wanted()
        ]
    )  # fmt: skip
    snap = strategy.snapshot()
    await store.add_snapshot(
        InventorySnapshot(2_000, NOW_PRICE, snap.base, snap.quote, strategy.mark(NOW_PRICE),
                          0.0, snap.fees, 0, snap.empty_line)
    )  # fmt: skip
    return run_id, store, strategy


async def _preview(
    api: httpx.AsyncClient, headers: dict[str, str], run_id: str, **edit: Any
) -> httpx.Response:
    return await api.post(f"/runs/{run_id}/grid/preview", json=edit, headers=headers)


async def test_the_preview_is_the_engines_diff_at_the_runs_last_price(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers, _ = await customer(api, login)
    run_id, _, strategy = await _trading_run(api, headers, pg_sessions)
    response = await _preview(api, headers, run_id, lower=92_000, upper=102_000, lines=8)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["reference_price"], body["reference_ts"]) == (NOW_PRICE, 2_000)
    equity = float(strategy.state[core.QUOTE] + strategy.state[core.BASE] * NOW_PRICE)
    assert body["investment_before"] == GRID["investment"]
    assert body["investment_after"] == pytest.approx(equity)
    assert body["capital_change"] == pytest.approx(equity - GRID["investment"])
    plan = body["plan"]
    assert (plan["lines"], plan["lower"], plan["upper"], plan["investment"]) == (
        8, 92_000, 102_000, pytest.approx(equity),
    )  # fmt: skip
    # Every resting order is off the new lines: all go, and the new grid's book comes in.
    resting = {o.line: o for o in strategy.wanted()}
    assert sorted(o["line"] for o in body["cancel"]) == sorted(resting)
    empty = body["empty_line"]
    assert plan["empty_line"] == empty
    placed = {o["line"]: o for o in body["place"]}
    assert sorted(placed) == [i for i in range(8) if i != empty]
    for line, order in placed.items():
        assert order["side"] == ("buy" if line < empty else "sell")
        assert order["price"] == plan["line_prices"][line]
    assert all(o["price"] < NOW_PRICE for o in body["place"] if o["side"] == "buy")
    assert body["base_to_buy"] >= 0
    assert body["quote_for_base"] == pytest.approx(body["base_to_buy"] * NOW_PRICE * 1.001)


async def test_the_same_grid_at_the_same_price_keeps_the_book(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers, _ = await customer(api, login)
    run_id, _, strategy = await _trading_run(api, headers, pg_sessions)
    same = {k: GRID[k] for k in ("lower", "upper", "lines")}
    body = (await _preview(api, headers, run_id, **same, reference_price=START_PRICE)).json()
    assert (body["reference_price"], body["reference_ts"]) == (START_PRICE, None)
    assert body["empty_line"] == strategy.empty_line
    # Resized to what the run holds now (the start's taker fee is gone from the capital), the
    # orders still round to the same lots: the book stands as it is.
    assert body["investment_after"] < GRID["investment"]
    assert (body["cancel"], body["place"]) == ([], [])
    assert body["base_to_buy"] == 0


async def test_applying_records_the_edit_for_the_run_loop_and_audits_it(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers, client_id = await customer(api, login)
    run_id, store, strategy = await _trading_run(api, headers, pg_sessions)
    first = await api.post(
        f"/runs/{run_id}/grid", json={"lower": 91_000, "upper": 103_000, "lines": 9},
        headers=headers,
    )  # fmt: skip
    assert first.status_code == 202, first.text
    edit = {"lower": 92_000, "upper": 102_000, "lines": 8}
    second = await api.post(f"/runs/{run_id}/grid", json=edit, headers=headers)
    accepted = second.json()
    assert (second.status_code, accepted["status"]) == (202, "queued")
    assert accepted["preview"] == (await _preview(api, headers, run_id, **edit)).json()
    async with pg_sessions() as session:
        rows = (
            await session.execute(
                text("SELECT id, status, details FROM run_requests WHERE run_id = :r "
                     "AND action = 'grid' ORDER BY id"),
                {"r": run_id},
            )
        ).all()  # fmt: skip
    assert [(r.status, r.details.get("superseded_by")) for r in rows] == [
        ("failed", accepted["request_id"]), ("queued", None),
    ]  # fmt: skip
    audit = (await api.get("/me/audit", headers=headers)).json()
    entry = next(e for e in audit if e["action"] == "run_grid_edit_requested")
    assert entry["details"]["to"] == edit
    assert entry["details"]["from"] == {k: GRID[k] for k in edit}
    status = (await api.get(f"/runs/{run_id}", headers=headers)).json()["status"]
    assert status == "running"  # the run was not stopped

    # The run loop's side: it takes the newest edit and moves its grid as a re-centre does;
    # the book it then wants is the preview's.
    edits = SqlGridEdits(pg_sessions, client_id, run_id)
    taken = await edits.take()
    assert taken is not None
    assert (taken.request_id, taken.lower, taken.upper, taken.lines) == (
        accepted["request_id"], 92_000, 102_000, 8,
    )  # fmt: skip
    assert await edits.take() is None
    record = await store.load_run()
    assert record is not None
    equity = float(strategy.state[core.QUOTE] + strategy.state[core.BASE] * NOW_PRICE)
    moved = edited_config(
        GridConfig.from_dict(record.config),
        lower=taken.lower, upper=taken.upper, lines=taken.lines, equity=equity,
    )  # fmt: skip
    running = GridStrategy(strategy.plan, np.asarray(record.state))
    running.recentre(build_plan(moved, offline_rules("BTC/USDT")), NOW_PRICE)
    preview = accepted["preview"]
    assert [(w.line, w.side.value, w.price, w.qty) for w in running.wanted()] == [
        (o["line"], o["side"], o["price"], o["qty"]) for o in preview["place"]
    ]  # every order changes size with the capital: the whole new book is placed
    first_sync = diff_book(running.wanted(), await store.orders())
    assert sorted(o.client_order_id for o in first_sync.cancel) == sorted(
        o["client_order_id"] for o in preview["cancel"]
    )
    await edits.applied(taken, moved)
    async with pg_sessions() as session:
        done = (
            await session.execute(
                text("SELECT status, details FROM run_requests WHERE id = :i"),
                {"i": taken.request_id},
            )
        ).one()
    assert done.status == "done"
    assert done.details["applied"]["lines"] == 8


async def test_edits_that_cannot_be_made_are_problems(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers, _ = await customer(api, login)
    intruder, _ = await customer(api, login)
    run_id, store, _ = await _trading_run(api, headers, pg_sessions)
    edit = {"lower": 92_000, "upper": 102_000, "lines": 8}
    foreign = await api.post(f"/runs/{run_id}/grid", json=edit, headers=intruder)
    assert (foreign.status_code, foreign.json()["type"]) == (404, "/problems/not-found")
    assert (await _preview(api, intruder, run_id, **edit)).status_code == 404
    for bad in ({**edit, "lower": 110_000}, {**edit, "lines": 1}, {"lower": 1}, {**edit, "x": 1}):
        response = await _preview(api, headers, run_id, **bad)
        assert (response.status_code, response.json()["type"]) == (422, "/problems/validation")
    tight = await _preview(api, headers, run_id, lower=96_000, upper=97_000, lines=400)
    assert (tight.status_code, tight.json()["type"]) == (422, "/problems/invalid-grid")
    await store.set_status("stopped", "by the test")
    stopped = await api.post(f"/runs/{run_id}/grid", json=edit, headers=headers)
    assert (stopped.status_code, stopped.json()["type"]) == (409, "/problems/conflict")


async def test_a_run_not_trading_yet_has_no_grid_to_edit(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers, client_id = await customer(api, login)
    bot = await new_bot(api, headers)
    run_id = (await api.post("/runs", json={"bot_id": bot["id"]}, headers=headers)).json()["id"]
    edit = {"lower": 92_000, "upper": 102_000, "lines": 8}
    queued = await _preview(api, headers, run_id, **edit)
    assert (queued.status_code, queued.json()["type"]) == (409, "/problems/conflict")
    await SqlRunStore(pg_sessions, client_id, run_id).set_status("running")
    no_state = await _preview(api, headers, run_id, **edit, reference_price=97_000)
    assert no_state.status_code == 409
    assert "not started trading" in no_state.json()["detail"]
