"""A paper run's figures as operators see them: the worker's ``METRICS_PORT``, the status
JSON and the dashboard page in headless Chromium (screenshot in ``out/ops/``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.ops.conftest import OPS_TOKEN, ops_server
from tests.venues.sim_fixtures import account, running_sim, sim_config
from tests.workers.fixtures import (
    GRID,
    WINDOW,
    ask_for_run,
    enqueue,
    in_process_worker,
    options,
    paper_client,
)
from tradebot.candles.io import bundled, load_candles
from tradebot.config import Settings
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.runs.repository import SnapshotRepository
from tradebot.venues.exchange_sim import MarketConfig

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "out" / "ops"
PAGE_SCRIPT = Path(__file__).with_name("dashboard_page.cjs")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


async def _final_pnl(
    sessions: async_sessionmaker[AsyncSession], client_id: str, run_id: str
) -> float:
    scope = ClientScope.of(client_id)
    async with client_transaction(sessions, scope) as session:
        latest = await SnapshotRepository(session, scope).latest(run_id)
    assert latest is not None
    return latest.equity - GRID["investment"]


def _page(url: str, screenshot: Path) -> dict[str, object]:
    if not Path(CHROMIUM).exists() or shutil.which("node") is None:
        pytest.fail(f"the dashboard test needs node and {CHROMIUM}")
    done = subprocess.run(
        ["node", str(PAGE_SCRIPT), url, str(screenshot)],
        env={**os.environ, "OPS_TOKEN": OPS_TOKEN, "CHROMIUM_PATH": CHROMIUM},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    page: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return page


async def test_a_paper_runs_figures_on_the_status_json_and_the_dashboard_page(
    pg_url: str, worker_env: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    candles = load_candles(bundled()).slice(WINDOW.start, WINDOW.stop)
    market = MarketConfig(maker_fee=0.0005, taker_fee=0.001)
    config = sim_config(candles, [account(usdt=2_000.0, btc=0.0)], market=market)
    async with running_sim(config) as sim:
        client = await paper_client(sessions)
        run_id = await ask_for_run(sessions, client)
        assert await enqueue(worker_env, client, run_id)
        async with in_process_worker(worker_env, options(sim.url), burst=True):
            pass
    pnl = await _final_pnl(sessions, client, run_id)

    with ops_server(pg_url, worker_env.RUN_QUEUE_NAME) as ops:
        status = httpx.get(f"{ops.dashboard}/api/status", headers=ops.auth).json()
        row = next(run for run in status["runs"] if run["run_id"] == run_id)
        assert row["client_id"] == client
        assert row["status"] == "finished"
        assert row["pnl_usd"] == pytest.approx(pnl)
        assert row["open_orders"] >= 0
        assert row["last_fill_ms"] is not None
        assert httpx.get(f"{ops.dashboard}/").status_code == 401

        OUT.mkdir(parents=True, exist_ok=True)
        screenshot = OUT / "dashboard.png"
        page = _page(f"{ops.dashboard}/", screenshot)

    assert page["status"] == 200
    assert page["refresh"] == "10"
    text = str(page["text"])
    assert run_id in text
    assert f"{pnl:+,.2f}" in text
    assert screenshot.stat().st_size > 10_000  # a rendered table, not a blank page
