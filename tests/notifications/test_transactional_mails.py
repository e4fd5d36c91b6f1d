"""The transactional mails through a real SMTP server on loopback: keys refused, guard tripped,
run stopped, trial ending and payment failed, each found where its event wrote it, queued once,
rendered as text and HTML with the event's facts, and delivered by the send job; preferences
leave out the run mails (never the account's), quiet hours hold what is not urgent, and a
hanging server means a recorded retry."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import httpx
import pytest
from arq.worker import Retry
from sqlalchemy import select, update

from tests.api.factories import customer, deliver, event, new_bot, subscribe
from tests.notifications.smtp import SmtpServer, silent_server
from tests.notifications.test_daily_email import smtp_settings
from tests.workers.fixtures import ask_for_run, options, worker_state
from tradebot.config import Settings
from tradebot.db import transaction
from tradebot.engine.risk import Guard
from tradebot.models.clients import Client
from tradebot.models.notifications import NotificationSend
from tradebot.notifications.service import backoff_s
from tradebot.runs.store import SqlRunStore, trip_kill_switch
from tradebot.workers.notifications import queue_transactional_mails, send_notification
from tradebot.workers.state import STATE, WorkerState

Login = Callable[..., dict[str, str]]


@pytest.fixture
async def state(worker_env: Settings, smtp: SmtpServer) -> AsyncIterator[WorkerState]:
    async with worker_state(worker_env, options("http://127.0.0.1:9")) as running:
        running.settings = smtp_settings(running.settings, smtp.port)
        yield running


async def sends_of(state: WorkerState, client: str) -> dict[str, NotificationSend]:
    async with transaction(state.sessions) as session:
        query = select(NotificationSend).where(NotificationSend.client_id == client)  # type: ignore[arg-type]
        return {row.kind: row for row in (await session.execute(query)).scalars()}


async def queue_mine(state: WorkerState, client: str) -> dict[str, NotificationSend]:
    """The cron's pass (every client's events), then this client's sends by kind."""
    queued = await queue_transactional_mails(state, datetime.now(UTC))
    mine = await sends_of(state, client)
    assert {row.id for row in mine.values() if row.status == "queued"} <= set(queued)
    return mine


async def deliver_all(state: WorkerState, client: str, rows: list[NotificationSend]) -> None:
    for row in rows:
        assert row.id is not None
        context = {STATE: state, "job_try": 1}
        assert await send_notification(context, client, row.id) == "delivered"


def bodies(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    page = message.get_body(("html",))
    assert plain is not None
    assert page is not None
    return str(plain.get_content()), str(page.get_content())  # type: ignore[attr-defined]


async def starter_with_events(api: httpx.AsyncClient, login: Login, state: WorkerState) -> str:
    """A Starter client (its user's email from the token) to whom each run and account event
    happens the way production writes it."""
    headers, client = await customer(api, lambda: login(email="owner@starter.test"))
    await subscribe(api, client, "starter")
    bot = await new_bot(api, headers)
    started = await api.post("/runs", json={"bot_id": bot["id"]}, headers=headers)
    stopped = await api.post(f"/runs/{started.json()['id']}/stop", headers=headers)
    assert stopped.json()["status"] == "stopped"
    running = await ask_for_run(state.sessions, client, status="running")
    now_ms = int(time.time() * 1000)
    await SqlRunStore(state.sessions, client, running).trip(
        Guard.RUN_LOSS.value, "run loss 55.20 USDT over 50 USDT", now_ms
    )
    await trip_kill_switch(state.sessions, client, Guard.KEY_PERMISSIONS.value,
                           "binance key ****AB12 can withdraw", now_ms)  # fmt: skip
    declined = event("invoice.payment_failed", {
        "object": "invoice", "customer": f"cus_{client[-10:]}",
        "subscription": f"sub_{client[-10:]}",
        "subscription_details": {"metadata": {"client_id": client}},
    })  # fmt: skip
    assert (await deliver(api, declined)).json()["outcome"] == "applied"
    return client


async def test_each_event_gets_its_mail_once_with_its_facts_in_text_and_html(
    api: httpx.AsyncClient, login: Login, state: WorkerState, smtp: SmtpServer
) -> None:
    client = await starter_with_events(api, login, state)

    mine = await queue_mine(state, client)
    assert set(mine) == {"keys_refused", "guard_tripped", "run_stopped", "payment_failed"}
    assert {row.status for row in mine.values()} == {"queued"}
    await deliver_all(state, client, list(mine.values()))
    # Looked at once: the next pass queues nothing more for them.
    again = await queue_mine(state, client)
    assert {kind: row.id for kind, row in again.items()} == {k: r.id for k, r in mine.items()}

    received = {str(m["Subject"]): m for m in smtp.messages if "owner@starter.test" in m["To"]}
    assert len(received) == 4
    by_start = {subject.split(":")[1].strip()[:12]: m for subject, m in received.items()}
    keys = bodies(by_start["your exchang"])
    for text in keys:
        assert "binance key ****AB12 can withdraw" in text
        assert "still active" in text
    guard_subject = next(s for s in received if "guard max_run_loss" in s)
    for text in bodies(received[guard_subject]):
        assert "run loss 55.20 USDT over 50 USDT" in text
        assert "BTC/USDT, paper" in text
    run_subject = next(s for s in received if "stopped:" in s)
    assert run_subject.startswith("TradeBot: btc grid (BTC/USDT) stopped: ")
    plain, page = bodies(received[run_subject])
    assert "btc grid (BTC/USDT, paper) is stopped since" in plain
    assert "stopped by user" in plain
    assert "stopped by user" in page
    assert "Round trips:    0" in plain
    for text in bodies(received["TradeBot: your payment failed"]):
        assert "past due" in text
    assert smtp.envelopes[-1][1] == ["owner@starter.test"]
    rows = await sends_of(state, client)
    assert {(row.status, row.attempts) for row in rows.values()} == {("delivered", 1)}


async def test_a_trial_ending_in_three_days_gets_its_mail(
    api: httpx.AsyncClient, login: Login, state: WorkerState, smtp: SmtpServer
) -> None:
    _, client = await customer(api, lambda: login(email="owner@trial.test"))
    async with transaction(state.sessions) as session:
        twelve_days_ago = datetime.now(UTC) - timedelta(days=12)
        await session.execute(
            update(Client).where(Client.id == client).values(created_at=twelve_days_ago)  # type: ignore[arg-type]
        )

    mine = await queue_mine(state, client)
    assert set(mine) == {"trial_ending"}
    await deliver_all(state, client, list(mine.values()))

    (message,) = [m for m in smtp.messages if "owner@trial.test" in m["To"]]
    ends = (twelve_days_ago + timedelta(days=14)).date().isoformat()
    assert message["Subject"] == f"TradeBot: your trial ends on {ends}"
    for text in bodies(message):
        assert f"ends on {ends}" in text.replace("<strong>", "")
        assert "in 2 days" in text  # 12 days and a few ms ago: under two days, said as two


async def test_run_mails_follow_the_preferences_and_quiet_hours_but_account_mails_do_not(
    api: httpx.AsyncClient, login: Login, state: WorkerState
) -> None:
    headers, client = await customer(api, lambda: login(email="quiet@starter.test"))
    await subscribe(api, client, "starter")
    hour = datetime.now(UTC).hour
    quiet = {"from_hour": hour, "to_hour": (hour + 2) % 24}
    chosen = {"daily_email": True, "alert_emails": True, "quiet_hours": quiet}
    assert (await api.put("/notifications/preferences", json=chosen, headers=headers)).is_success
    bot = await new_bot(api, headers)
    started = await api.post("/runs", json={"bot_id": bot["id"]}, headers=headers)
    await api.post(f"/runs/{started.json()['id']}/stop", headers=headers)
    running = await ask_for_run(state.sessions, client, status="running")
    await SqlRunStore(state.sessions, client, running).trip(
        Guard.RUN_LOSS.value, "run loss over 50 USDT", int(time.time() * 1000)
    )

    held = await queue_mine(state, client)
    # Quiet hours hold the stopped run's mail until they end; a guard trip never waits.
    assert held["guard_tripped"].next_attempt_at is None
    quiet_end = held["run_stopped"].next_attempt_at
    assert quiet_end is not None
    assert (quiet_end.hour, quiet_end.minute) == ((hour + 2) % 24, 0)

    off = {"daily_email": True, "alert_emails": False}
    assert (await api.put("/notifications/preferences", json=off, headers=headers)).is_success
    refused = "binance key ****CD34 can withdraw"
    await trip_kill_switch(
        state.sessions, client, Guard.KEY_PERMISSIONS.value, refused, int(time.time() * 1000)
    )
    await SqlRunStore(state.sessions, client, running).trip(
        Guard.STALE_TICKER.value, "no ticker for 30 s", int(time.time() * 1000)
    )
    after = await queue_transactional_mails(state, datetime.now(UTC))
    async with transaction(state.sessions) as session:
        query = select(NotificationSend).where(NotificationSend.client_id == client)  # type: ignore[arg-type]
        rows = [r for r in (await session.execute(query)).scalars() if r.id not in
                {s.id for s in held.values()}]  # fmt: skip
    statuses = {(row.kind, row.status) for row in rows}
    assert statuses == {("keys_refused", "queued"), ("guard_tripped", "skipped")}
    (keys,) = [row for row in rows if row.kind == "keys_refused"]
    assert keys.id in after


async def test_a_hanging_mail_server_means_a_recorded_retry_with_backoff(
    api: httpx.AsyncClient, login: Login, state: WorkerState
) -> None:
    _, client = await customer(api, lambda: login(email="owner@hang.test"))
    refused = "binance key ****EF56 can withdraw"
    await trip_kill_switch(
        state.sessions, client, Guard.KEY_PERMISSIONS.value, refused, int(time.time() * 1000)
    )
    (row,) = (await queue_mine(state, client)).values()
    assert row.id is not None
    with silent_server() as port:
        state.settings = smtp_settings(state.settings, port, SMTP_TIMEOUT_S=0.5)
        started = time.monotonic()
        with pytest.raises(Retry) as retry:
            await send_notification({STATE: state, "job_try": 1}, client, row.id)
        assert time.monotonic() - started < 5
    assert retry.value.defer_score == backoff_s(1) * 1000
    (after,) = (await sends_of(state, client)).values()
    assert (after.status, after.attempts) == ("retrying", 1)
    assert after.last_error is not None
    assert "Timeout" in after.last_error
    assert after.next_attempt_at is not None
