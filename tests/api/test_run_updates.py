"""``GET /runs/{id}/updates``: the run page's one poll. Fills come after the cursor in the order
they were recorded (a fill the exchange reported late too), with the run's status, its working
orders and its guards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.factories import customer, new_bot
from tradebot.engine.orders import OrderStatus
from tradebot.engine.types import Side
from tradebot.runs.service import UPDATE_FILLS
from tradebot.runs.store import SqlRunStore
from tradebot.runtime.store import FillRecord, OrderUpdate, StoredOrder


def _fill(trade_id: str, order: StoredOrder, ts: int) -> FillRecord:
    return FillRecord(
        trade_id, order.client_order_id, order.side, order.line, order.price, order.qty, 0.1,
        "USDT", ts,
    )  # fmt: skip


async def _running(
    api: httpx.AsyncClient, headers: dict[str, str], sessions: async_sessionmaker[AsyncSession]
) -> tuple[str, SqlRunStore]:
    bot = await new_bot(api, headers)
    run = (await api.post("/runs", json={"bot_id": bot["id"]}, headers=headers)).json()
    client_id = (await api.get("/me", headers=headers)).json()["client_id"]
    store = SqlRunStore(sessions, client_id, run["id"])
    await store.set_status("running")
    return run["id"], store


def _order(run_id: str, line: int, side: Side, price: float, status: OrderStatus) -> StoredOrder:
    cid = f"{run_id[-10:]}-{line}-{side.value}"
    return StoredOrder(cid, line, 0, side, "limit", price, 0.001, status, 1_000)


async def _poll(
    api: httpx.AsyncClient, headers: dict[str, str], run_id: str, since: str | None = None
) -> dict[str, Any]:
    params = {"since": since} if since is not None else {}
    response = await api.get(f"/runs/{run_id}/updates", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_each_poll_brings_the_fills_recorded_since_the_last_one(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers, _ = await customer(api, login)
    run_id, store = await _running(api, headers, pg_sessions)
    buy = _order(run_id, 3, Side.BUY, 95_000.0, OrderStatus.OPEN)
    sell = _order(run_id, 5, Side.SELL, 97_000.0, OrderStatus.OPEN)
    done = _order(run_id, 4, Side.BUY, 96_000.0, OrderStatus.OPEN)
    await store.add_orders([buy, sell, done])
    await store.record_fills(
        [_fill("t-1", done, 5_000)], [OrderUpdate(done.client_order_id, OrderStatus.FILLED, 5_000)],
        [], 5_000,
    )  # fmt: skip

    first = await _poll(api, headers, run_id)
    assert first["run"] == (await api.get(f"/runs/{run_id}", headers=headers)).json()
    assert [f["trade_id"] for f in first["fills"]] == ["t-1"]
    assert [(o["line"], o["side"]) for o in first["orders"]] == [(3, "buy"), (5, "sell")]
    assert (first["guards"], first["more"]) == ([], False)

    quiet = await _poll(api, headers, run_id, first["cursor"])
    assert (quiet["fills"], quiet["cursor"]) == ([], first["cursor"])

    # The exchange reports a fill late: its time is older than the one already shown.
    await store.record_fills([_fill("t-0", buy, 4_000)], [], [], 6_000)
    late = await _poll(api, headers, run_id, first["cursor"])
    assert [(f["trade_id"], f["ts"]) for f in late["fills"]] == [("t-0", 4_000)]
    assert late["run"]["fills"] == 2
    assert int(late["cursor"]) > int(first["cursor"])


async def test_a_burst_of_fills_comes_a_page_at_a_time(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers, _ = await customer(api, login)
    run_id, store = await _running(api, headers, pg_sessions)
    order = _order(run_id, 3, Side.BUY, 95_000.0, OrderStatus.OPEN)
    await store.add_orders([order])
    start = await _poll(api, headers, run_id)
    burst = [_fill(f"b-{i}", order, 10_000 + i) for i in range(UPDATE_FILLS + 3)]
    await store.record_fills(burst, [], [], 20_000)
    page = await _poll(api, headers, run_id, start["cursor"])
    assert (len(page["fills"]), page["more"]) == (UPDATE_FILLS, True)
    rest = await _poll(api, headers, run_id, page["cursor"])
    assert ([f["trade_id"] for f in rest["fills"]], rest["more"]) == (
        ["b-500", "b-501", "b-502"],
        False,
    )


PROBE_FILLS = 60_000


def _rows_read(plan: list[str]) -> int:
    """Rows the plan's scans read: returned plus removed by a filter (EXPLAIN ANALYZE)."""
    read = 0
    for line in plan:
        if "Scan" in line and "actual" in line:
            read += int(line.split("rows=")[2].split()[0])
        if "Rows Removed by Filter" in line:
            read += int(line.rsplit(":", 1)[1])
    return read


async def test_a_poll_reads_the_runs_new_fills_not_the_clients_history(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A client with 60,000 fills over 200 runs: the poll after a cursor and the first poll (no
    cursor) each read about the rows they return, through an index. Rolled back afterwards."""
    setup = [
        "INSERT INTO clients (id, name, owner, plan, status, limits, created_at, updated_at) "
        "VALUES ('plan-probe', '', '', 'pro', 'active', '{}', now(), now())",
        "INSERT INTO bot_runs (id, client_id, mode, exchange, pair, status, config, state, "
        "base_ts, clock_ts, fill_count, owner, created_at, updated_at) "
        "SELECT 'probe-' || r, 'plan-probe', 'paper', 'binance', 'BTC/USDT', 'running', '{}', "
        "'[]', 0, 0, 0, '', now(), now() FROM generate_series(1, 200) r",
        "INSERT INTO bot_fills (client_id, run_id, client_order_id, trade_id, ts, side, line, "
        "price, qty, fee, fee_currency) SELECT 'plan-probe', 'probe-' || (1 + i % 200), 'o', "
        f"'t' || i, i, 'buy', 1, 1.0, 1.0, 0.0, '' FROM generate_series(1, {PROBE_FILLS}) i",
        "ANALYZE bot_fills",
    ]
    where = "client_id = 'plan-probe' AND run_id = 'probe-3'"
    async with pg_sessions() as session:  # one transaction (autobegun), rolled back
        for statement in setup:
            await session.execute(text(statement))
        newest = int(await session.scalar(text("SELECT max(id) FROM bot_fills")))
        plans = []
        for query in (
            f"SELECT * FROM bot_fills WHERE {where} AND id > {newest - 2_000} "
            f"ORDER BY id LIMIT {UPDATE_FILLS + 1}",
            f"SELECT * FROM bot_fills WHERE {where} ORDER BY id DESC LIMIT {UPDATE_FILLS}",
        ):
            explained = await session.execute(text(f"EXPLAIN ANALYZE {query}"))
            plans.append(list(explained.scalars().all()))
        await session.rollback()
    for plan in plans:
        assert not any("Seq Scan" in line for line in plan), plan
        assert _rows_read(plan) <= 4 * UPDATE_FILLS, plan


async def test_another_clients_run_or_a_bad_cursor_is_a_problem(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    owner, _ = await customer(api, login)
    intruder, _ = await customer(api, login)
    run_id, _ = await _running(api, owner, pg_sessions)
    foreign = await api.get(f"/runs/{run_id}/updates", headers=intruder)
    assert (foreign.status_code, foreign.json()["type"]) == (404, "/problems/not-found")
    for since in ("abc", "-1", "1" * 19):
        bad = await api.get(f"/runs/{run_id}/updates", params={"since": since}, headers=owner)
        assert (bad.status_code, bad.json()["type"]) == (422, "/problems/validation")
