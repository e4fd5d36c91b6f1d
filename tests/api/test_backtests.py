"""Backtest jobs: recorded, computed after the response, exported only on plans with exports."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.factories import GRID, customer, new_bot, subscribe
from tests.factories import BASE_TS
from tradebot.backtests.candles import bundled_week
from tradebot.backtests.schemas import CHART_POINTS
from tradebot.backtests.service import CUT_OFF, CUT_OFF_AFTER
from tradebot.bots.schemas import GridSpec
from tradebot.bots.service import grid_plan
from tradebot.kit.clock import utcnow
from tradebot.models.backtests import BacktestJob
from tradebot.research.backtest import run_backtest


async def test_backtest_over_the_bundled_week_and_export_on_pro_only(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, client_id = await customer(api, login)
    bot = await new_bot(api, headers)
    created = await api.post("/backtests", json={"bot_id": bot["id"], "days": 2}, headers=headers)
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]
    job = (await api.get(f"/backtests/{job_id}", headers=headers)).json()
    assert (job["status"], job["progress"], job["candles"]) == ("done", 1.0, "bundled")
    # The same grid on the same two bundled days through the engine directly: the job's
    # figures are exactly these (and the grid does trade in that window).
    expected = run_backtest(grid_plan("BTC/USDT", GridSpec(**GRID)), bundled_week().first_days(2))
    assert expected.round_trips > 0
    assert job["result"]["round_trips"] == expected.round_trips
    assert job["result"]["fills"] == len(expected.fills)
    assert job["result"]["days"] == 2
    # What the wizard draws: the equity curve sampled to at most 500 closes (its first, last,
    # lowest and highest kept) with buy & hold beside it, and the newest 500 fills.
    curve = job["equity_curve"]
    assert 400 <= len(curve) <= CHART_POINTS < len(expected.ts)
    assert [p["ts"] for p in curve] == sorted({p["ts"] for p in curve})
    equity = expected.equity_curve
    assert (curve[0]["ts"], curve[-1]["ts"]) == (int(expected.ts[0]), int(expected.ts[-1]))
    assert curve[-1]["equity"] == pytest.approx(float(equity[-1]))
    assert min(p["equity"] for p in curve) == pytest.approx(float(equity.min()))
    assert max(p["equity"] for p in curve) == pytest.approx(float(equity.max()))
    hold = curve[-1]["buy_and_hold"] - expected.investment
    assert hold == pytest.approx(expected.buy_and_hold_pnl, rel=1e-6)
    assert job["fills_total"] == len(expected.fills)
    newest = expected.fills[-CHART_POINTS:]
    assert [(f["ts"], f["side"], f["price"]) for f in job["fills"]] == [
        (f.ts, f.side.value, f.price) for f in newest
    ]
    assert "chart" not in job["result"]
    refused = await api.get(f"/backtests/{job_id}/export", headers=headers)
    assert refused.status_code == 402
    await subscribe(api, client_id, "pro")
    exported = await api.get(f"/backtests/{job_id}/export?format=csv", headers=headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert len(rows) - 1 == job["result"]["fills"]
    as_json = await api.get(f"/backtests/{job_id}/export?format=json", headers=headers)
    assert as_json.json() == job["result"]
    listed = (await api.get("/backtests", headers=headers)).json()
    assert [(b["result"], b["equity_curve"], b["fills"]) for b in listed] == [(None, None, None)]


async def test_backtest_over_uploaded_candles(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(api, login)
    bot = await new_bot(api, headers, lower=90, upper=110, lines=5, investment=1000)
    # Down through two lines and back up: two round trips on a 90..110 grid in 5 lines.
    prices = [100, 94, 89, 96, 104, 111]
    rows = [
        [BASE_TS + i * 60_000, p, max(p, q), min(p, q), q]
        for i, (p, q) in enumerate(itertools.pairwise(prices))
    ]
    body = {"bot_id": bot["id"], "candles": rows}
    job = await api.post("/backtests", json=body, headers=headers)
    assert job.status_code == 202, job.text
    result = (await api.get(f"/backtests/{job.json()['id']}", headers=headers)).json()
    assert result["status"] == "done", result
    assert result["candles"] == "uploaded"
    assert result["result"]["round_trips"] >= 1
    # Five candles: every close drawn, every fill listed.
    assert [p["ts"] for p in result["equity_curve"]] == [row[0] for row in rows]
    assert result["fills_total"] == len(result["fills"]) == result["result"]["fills"]
    assert {f["side"] for f in result["fills"]} == {"buy", "sell"}


async def test_bad_uploaded_candles_fail_the_job_with_one_line(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    headers, _ = await customer(api, login)
    bot = await new_bot(api, headers)
    backwards = [
        [BASE_TS + 60_000, 1, 2, 0.5, 1],
        [BASE_TS, 1, 2, 0.5, 1],
        [BASE_TS - 60_000, 1, 2, 0.5, 1],
    ]
    job = await api.post(
        "/backtests", json={"bot_id": bot["id"], "candles": backwards}, headers=headers
    )
    view = (await api.get(f"/backtests/{job.json()['id']}", headers=headers)).json()
    assert view["status"] == "failed"
    assert view["error"]
    assert "Traceback" not in view["error"]


async def test_a_job_an_api_restart_cut_off_reads_as_failed_not_running_for_ever(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A backtest runs as a task of the API process that took it: one that stopped with it
    would read "running" for ever. Past ``CUT_OFF_AFTER`` it fails, and says to run it again;
    a job that may still be running is left alone."""
    headers, _ = await customer(api, login)
    bot = await new_bot(api, headers)
    ids = []
    for _ in range(3):
        created = await api.post("/backtests", json={"bot_id": bot["id"]}, headers=headers)
        ids.append(created.json()["id"])
    cut, fresh, done = ids
    asked = utcnow() - CUT_OFF_AFTER - timedelta(minutes=1)
    async with pg_sessions() as session, session.begin():
        for job_id, status, created_at in (
            (cut, "running", asked),
            (fresh, "queued", utcnow() - CUT_OFF_AFTER + timedelta(minutes=1)),
            (done, "done", asked),
        ):
            job = await session.get(BacktestJob, job_id)
            assert job is not None
            job.status, job.created_at = status, created_at

    view = (await api.get(f"/backtests/{cut}", headers=headers)).json()
    assert (view["status"], view["error"]) == ("failed", CUT_OFF)
    listed = {b["id"]: b["status"] for b in (await api.get("/backtests", headers=headers)).json()}
    assert listed == {cut: "failed", fresh: "queued", done: "done"}
    async with pg_sessions() as session:
        stored = await session.get(BacktestJob, cut)
        assert stored is not None
        assert (stored.status, stored.error, stored.candles) == ("failed", CUT_OFF, None)
        assert stored.finished_at is not None
