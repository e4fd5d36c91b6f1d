"""The daily P&L email through a real SMTP server on loopback: the figures in the message are
the runs'; every attempt is recorded; a dead or hanging server means retries, never a lost or
doubled email."""

from __future__ import annotations

import struct
import subprocess
import time
from base64 import b64encode
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.fixtures import free_port
from tests.conftest import unique_id
from tests.notifications.smtp import SmtpServer, silent_server, smtp_server
from tests.workers.fixtures import ask_for_run, options, paper_client, worker_state
from tradebot.config import Settings
from tradebot.db import transaction
from tradebot.engine import core
from tradebot.engine.orders import OrderStatus
from tradebot.engine.types import Side
from tradebot.kit.scope import ClientScope
from tradebot.models.auth import User
from tradebot.models.bots import Bot
from tradebot.models.notifications import NotificationSend
from tradebot.models.runs import BotRun
from tradebot.notifications.preferences import PreferenceService
from tradebot.notifications.schemas import PreferencesUpdate
from tradebot.runs.store import SqlRunStore
from tradebot.runtime.store import FillRecord, InventorySnapshot, StoredOrder
from tradebot.workers.daily import summarise_day
from tradebot.workers.notifications import queue_daily_emails, send_notification
from tradebot.workers.state import STATE, WorkerState

# (grid profit, fees, equity, round trips) of the client's two runs; both invested 1,000
RUNS = [(12.5, 1.5, 1_030.0, 4), (7.25, 0.75, 985.0, 3)]
OPEN_ORDERS = 3
HOUR_MS = 3_600_000
SNAPSHOT_HOURS = 6


def equity_path(final: float) -> list[float]:
    """A run's hourly equity today: from its 1,000 invested to ``final``, by a winding road."""
    return [1_000.0 + (final - 1_000.0) * h / (SNAPSHOT_HOURS - 1) + (-1) ** h * 4.0
            for h in range(SNAPSHOT_HOURS)]  # fmt: skip


def smtp_settings(env: Settings, port: int, **more: Any) -> Settings:
    return env.model_copy(
        update={"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none",
                "SMTP_FROM": "TradeBot <reports@tradebot.test>", "SMTP_TIMEOUT_S": 1.0, **more}
    )  # fmt: skip


async def starter_with_two_bots(sessions: async_sessionmaker[AsyncSession], plan: str) -> str:
    """A client with a user, two bots and a run of each with engine state, fills, open orders
    and a tripped guard today."""
    client = await paper_client(sessions, plan=plan)
    today_ms = int(datetime.combine(datetime.now(UTC).date(), datetime.min.time(), UTC)
                   .timestamp() * 1000)  # fmt: skip
    async with transaction(sessions) as session:
        session.add(User(sub=f"auth0|{client}", client_id=client, email=f"{client}@example.test"))
    for n, (profit, fees, equity, trips) in enumerate(RUNS):
        run_id = await ask_for_run(sessions, client, status="running")
        bot_id = unique_id("b")[-32:]
        async with transaction(sessions) as session:
            session.add(Bot(id=bot_id, client_id=client, name=f"grid {n + 1}", exchange="binance",
                            pair="BTC/USDT", config={}))  # fmt: skip
            run = await session.get(BotRun, run_id)
            assert run is not None
            run.config = {**run.config, "bot_id": bot_id}
        state = [0.0] * core.STATE_SIZE
        state[core.GRID_PROFIT], state[core.FEES], state[core.EQUITY] = profit, fees, equity
        state[core.INVESTMENT], state[core.ROUND_TRIPS] = 1_000.0, trips
        store = SqlRunStore(sessions, client, run_id)
        fills = [FillRecord(f"t{n}-{i}", f"c{n}-{i}", Side.BUY, 1, 95_000.0, 0.001, 0.1, "USDT",
                            today_ms + 1_000 * i) for i in range(2)]  # fmt: skip
        await store.record_fills(fills, [], state, today_ms)
        for hour, equity_then in enumerate(equity_path(equity)):
            await store.add_snapshot(
                InventorySnapshot(ts=today_ms + hour * HOUR_MS + n * 60_000, price=95_000.0,
                                  base=0.0, quote=equity_then, equity=equity_then,
                                  grid_profit=profit, fees=fees, round_trips=trips, empty_line=1)
            )  # fmt: skip
        if n == 0:
            resting = [
                StoredOrder(f"{run_id[-40:]}-{line}", line, 1, Side.BUY, "limit",
                            90_000.0 + line, 0.001, OrderStatus.OPEN, today_ms)
                for line in range(OPEN_ORDERS)
            ]  # fmt: skip
            await store.add_orders(resting)
        else:
            await store.trip("max_run_loss", "run loss over 5 USDT", today_ms)
    return client


@pytest.fixture
async def state(worker_env: Settings) -> AsyncIterator[WorkerState]:
    async with worker_state(worker_env, options("http://127.0.0.1:9")) as running:
        yield running


async def sends_of(sessions: async_sessionmaker[AsyncSession], client: str) -> list[Any]:
    async with transaction(sessions) as session:
        query = select(NotificationSend).where(NotificationSend.client_id == client)  # type: ignore[arg-type]
        return list((await session.execute(query)).scalars())


async def queued(state: WorkerState, client: str) -> int:
    day = datetime.now(UTC).date()
    assert await summarise_day(state, day) >= 1
    send_ids = await queue_daily_emails(state, day)
    mine = [s for s in await sends_of(state.sessions, client) if s.id in send_ids]
    assert len(mine) == 1
    assert await queue_daily_emails(state, day) == []  # queued once per client and day
    return int(mine[0].id)


async def attempt(state: WorkerState, client: str, send_id: int, job_try: int) -> str:
    return await send_notification({STATE: state, "job_try": job_try}, client, send_id)


async def test_a_starter_client_receives_the_daily_email_with_the_runs_figures(
    state: WorkerState, smtp: SmtpServer
) -> None:
    state.settings = smtp_settings(state.settings, smtp.port)
    client = await starter_with_two_bots(state.sessions, "starter")
    send_id = await queued(state, client)
    assert await attempt(state, client, send_id, 1) == "delivered"

    (message,) = [m for m in smtp.messages if client in str(m["To"])]
    assert smtp.envelopes[-1] == ("reports@tradebot.test", [f"{client}@example.test"])
    grid_profit = sum(run[0] for run in RUNS)  # 19.75
    pnl = sum(run[2] for run in RUNS) - 1_000.0 * len(RUNS)  # 15.0
    assert message["Subject"] == f"TradeBot daily P&L {datetime.now(UTC).date()}: +15.00 USDT"
    plain = message.get_body(("plain",)).get_content()
    assert f"P&L:            {pnl:+,.2f} USDT" in plain
    assert f"  grid profit:  {grid_profit:+,.2f} USDT" in plain
    assert f"  price P&L:    {pnl - grid_profit:+,.2f} USDT" in plain  # -4.75
    assert "Fees:           2.25 USDT" in plain
    assert "Round trips:    7" in plain
    assert "Fills:          4" in plain
    assert f"Runs:           2 (1 running), {OPEN_ORDERS} open orders" in plain  # one tripped
    assert "Guard events:   1" in plain
    assert "max_run_loss: run loss over 5 USDT" in plain
    # each bot's line: its own run's figures
    assert ("grid 1 (BTC/USDT, paper, running): grid profit +12.50 USDT, price P&L +17.50 USDT, "
            f"fees 1.50 USDT, 4 round trips, {OPEN_ORDERS} open orders") in plain  # fmt: skip
    assert ("grid 2 (BTC/USDT, paper, tripped): grid profit +7.25 USDT, price P&L -22.25 USDT, "
            "fees 0.75 USDT, 3 round trips, 0 open orders") in plain  # fmt: skip
    page = message.get_body(("html",)).get_content()
    for figure in ("+15.00 USDT", "+19.75 USDT", "-4.75 USDT", "2.25 USDT", "grid 1", "grid 2"):
        assert figure in page
    png = equity_chart(message, page)
    screenshot(page, png, OUT / "daily_email.png")
    (row,) = await sends_of(state.sessions, client)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 1, None)
    assert row.delivered_at is not None
    # a second delivery of the same job sends nothing more
    assert await attempt(state, client, send_id, 2) == "delivered"
    assert len([m for m in smtp.messages if client in str(m["To"])]) == 1


OUT = Path("out/notifications")


def equity_chart(message: Any, page: str) -> bytes:
    """The chart the HTML shows: a PNG sent inside the message, of the chart's size."""
    assert 'src="cid:equity-chart"' in page
    (image,) = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<equity-chart>"
    png: bytes = image.get_content()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", png[16:24]) == (560, 140)
    return png


def screenshot(page: str, png: bytes, path: Path) -> None:
    """The email as a mail client shows it (the chart inlined), rendered by headless Chromium
    and saved for people to look at."""
    path.parent.mkdir(parents=True, exist_ok=True)
    inlined = page.replace("cid:equity-chart", "data:image/png;base64," + b64encode(png).decode())
    html = path.with_suffix(".html")
    html.write_text(inlined, encoding="utf-8")
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--screenshot={path.resolve()}", "--window-size=760,1250", html.resolve().as_uri()],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    shot = path.read_bytes()
    assert shot.startswith(b"\x89PNG")
    assert len(shot) > 20_000  # a rendered page, not a blank one


async def test_a_trial_client_gets_no_email(state: WorkerState, smtp: SmtpServer) -> None:
    state.settings = smtp_settings(state.settings, smtp.port)
    client = await starter_with_two_bots(state.sessions, "trial")
    await queue_daily_emails(state, datetime.now(UTC).date())
    assert await sends_of(state.sessions, client) == []


async def test_a_dead_then_hanging_server_is_retried_with_backoff_then_delivered(
    state: WorkerState,
) -> None:
    from arq.worker import Retry

    port = free_port()
    state.settings = smtp_settings(state.settings, port)
    client = await starter_with_two_bots(state.sessions, "pro")
    send_id = await queued(state, client)
    with pytest.raises(Retry) as refused:  # nothing listens on the port
        await attempt(state, client, send_id, 1)
    assert refused.value.defer_score == 60_000
    (row,) = await sends_of(state.sessions, client)
    assert (row.status, row.attempts) == ("retrying", 1)
    assert row.last_error
    assert row.next_attempt_at > row.updated_at

    with silent_server() as silent_port:
        state.settings = smtp_settings(state.settings, silent_port, SMTP_TIMEOUT_S=0.5)
        started = time.monotonic()
        with pytest.raises(Retry) as hung:
            await attempt(state, client, send_id, 2)
        assert time.monotonic() - started < 5  # the timeout, not the server, ends the attempt
    assert hung.value.defer_score == 240_000
    (row,) = await sends_of(state.sessions, client)
    assert (row.status, row.attempts) == ("retrying", 2)

    with smtp_server(port) as server:
        state.settings = smtp_settings(state.settings, port)
        assert await attempt(state, client, send_id, 3) == "delivered"
    assert len(server.messages) == 1
    (row,) = await sends_of(state.sessions, client)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 3, None)


async def test_the_last_failed_attempt_marks_the_send_failed(state: WorkerState) -> None:
    state.settings = smtp_settings(state.settings, free_port())
    client = await starter_with_two_bots(state.sessions, "starter")
    send_id = await queued(state, client)
    assert await attempt(state, client, send_id, 5) == "failed"
    (row,) = await sends_of(state.sessions, client)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 5, None)


async def test_a_client_who_turned_the_email_off_gets_none(
    state: WorkerState, smtp: SmtpServer
) -> None:
    state.settings = smtp_settings(state.settings, smtp.port)
    client = await starter_with_two_bots(state.sessions, "starter")
    preferences = PreferenceService(state.sessions, ClientScope.of(client), "user:test")
    await preferences.update(PreferencesUpdate(daily_email=False))
    await summarise_day(state, datetime.now(UTC).date())
    await queue_daily_emails(state, datetime.now(UTC).date())
    assert await sends_of(state.sessions, client) == []
