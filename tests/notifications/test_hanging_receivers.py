"""A mail server or a Telegram Bot API that hangs does not change how a paper run trades.

The same paper run (the stepped exchange simulator over the same 90 minutes) is traded twice
by a real in-process worker while that worker also sends a client's notifications: once to a
healthy SMTP server and Bot API stand-in, once to a mail server that never greets and a Bot API
that never answers. The fills are the same, the run's wall-clock time stays within a bound of
the healthy one, and the sends that could not go out are recorded as retrying.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.notifications.bot_api import TOKEN, bot_api_stand_in
from tests.notifications.smtp import silent_server, smtp_server
from tests.notifications.test_daily_email import smtp_settings
from tests.observability.receivers import hanging_receiver
from tests.venues.sim_fixtures import account, running_sim, sim_config
from tests.workers.fixtures import (
    WINDOW,
    ask_for_run,
    enqueue,
    eventually,
    fills_of,
    in_process_worker,
    options,
    paper_client,
    run_row,
    worker_state,
)
from tradebot.candles.io import bundled, load_candles
from tradebot.config import Settings
from tradebot.db import transaction
from tradebot.engine.risk import Guard
from tradebot.kit.clock import utcnow
from tradebot.models.auth import User
from tradebot.models.notifications import NotificationSend, TelegramChat
from tradebot.notifications.mail_events import mail_events
from tradebot.notifications.repository import TelegramChatDirectory
from tradebot.notifications.service import TransactionalMails
from tradebot.runs.store import trip_kill_switch
from tradebot.venues.exchange_sim import MarketConfig
from tradebot.workers.notifications import SEND_JOB, send_job_id, telegram_alerts
from tradebot.workers.state import STATE

pytestmark = pytest.mark.slow

SLOWER_BY_AT_MOST = 2.0
"""The hanging run's wall-clock time over the healthy one's, with ``SLACK_S`` on top: the
same run takes 1.5 to 5 s on a loaded two-core machine. A send that blocked would add its whole
timeout (``SMTP_TIMEOUT_S`` 8 s, the Bot API's 5 s read timeout) per attempt."""
SLACK_S = 2.0
MAX_LOOP_LAG_S = 2.0
"""The worst delay of the worker's event loop while the run trades (the run, the sends and the
simulator share it): under load a warm-up costs up to about 1.3 s, a send that blocked would
cost its whole timeout (5 to 8 s)."""


@dataclass(frozen=True)
class Traded:
    seconds: float
    loop_lag: float
    """The worst lateness of a 10 ms sleep on the worker's loop while the run traded."""
    fills: list[tuple[int, str, float, float]]
    sends: dict[str, str]
    """The bystander's sends: channel -> status."""


async def _bystander(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, int]:
    """A Pro client with an email and a linked chat, whose key was just refused: a mail and a
    Telegram alert are due. A client of its own, so its kill switch stops no traded run."""
    client = await paper_client(sessions, plan="pro")
    chat_id = -secrets.randbelow(10**9) - 10**9  # a group's id: before other tests' chats
    async with transaction(sessions) as session:
        session.add(User(sub=f"auth0|{client}", client_id=client, email=f"{client}@example.test"))
        await TelegramChatDirectory(session).link(
            TelegramChat(chat_id=chat_id, client_id=client, linked_by="test")
        )
    refused = "binance key ****9Z9Z can withdraw"
    await trip_kill_switch(
        sessions, client, Guard.KEY_PERMISSIONS.value, refused, int(time.time() * 1000)
    )
    return client, chat_id


async def _queue_mail(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                      client: str) -> None:  # fmt: skip
    """The bystander's mail queued and its send job enqueued, as the minute cron does."""
    async with worker_state(settings, options("http://127.0.0.1:9")) as state:
        async with transaction(sessions) as session:
            (event,) = [e for e in await mail_events(session, utcnow()) if e.client_id == client]
        send = await TransactionalMails(sessions, settings).queue(event, utcnow())
        assert send is not None
        assert await state.redis.enqueue_job(SEND_JOB, client, send.send_id,
                                      _job_id=send_job_id(settings.RUN_QUEUE_NAME, send.send_id),
                                      _queue_name=settings.RUN_QUEUE_NAME)  # fmt: skip


async def _unlink(sessions: async_sessionmaker[AsyncSession], chat_id: int) -> None:
    async with transaction(sessions) as session:
        await session.execute(delete(TelegramChat).where(TelegramChat.chat_id == chat_id))  # type: ignore[arg-type]


async def _sends(sessions: async_sessionmaker[AsyncSession], client: str) -> dict[str, str]:
    async with transaction(sessions) as session:
        query = select(NotificationSend).where(NotificationSend.client_id == client)  # type: ignore[arg-type]
        return {row.channel: row.status for row in (await session.execute(query)).scalars()}


@asynccontextmanager
async def receivers(hanging: bool) -> AsyncIterator[tuple[int, str]]:
    """(SMTP port, Bot API base) of healthy receivers, or of ones that never answer."""
    async with AsyncExitStack() as stack:
        if hanging:
            port = stack.enter_context(silent_server())
            base = stack.enter_context(hanging_receiver()).removesuffix("/ingest")
        else:
            port = stack.enter_context(smtp_server()).port
            base = (await stack.enter_async_context(bot_api_stand_in())).url
        yield port, base


async def trade(
    env: Settings, sessions: async_sessionmaker[AsyncSession], *, hanging: bool
) -> Traded:
    candles = load_candles(bundled()).slice(WINDOW.start, WINDOW.stop)
    market = MarketConfig(maker_fee=0.0005, taker_fee=0.001)
    config = sim_config(candles, [account(usdt=2_000.0, btc=0.0)], market=market)
    async with receivers(hanging) as (smtp_port, bot_api), running_sim(config) as sim:
        settings = smtp_settings(env, smtp_port, SMTP_TIMEOUT_S=8.0).model_copy(
            update={"TELEGRAM_BOT_TOKEN": SecretStr(TOKEN), "TELEGRAM_API_BASE": bot_api}
        )
        bystander, chat = await _bystander(sessions)
        try:
            await _queue_mail(settings, sessions, bystander)
            trader = await paper_client(sessions)
            run_id = await ask_for_run(sessions, trader)
            async with in_process_worker(settings, options(sim.url)) as worker:
                started = time.monotonic()
                assert await enqueue(settings, trader, run_id)
                await eventually(lambda: _has_state(worker.ctx), what="the worker's start-up")
                alerts = asyncio.create_task(telegram_alerts(worker.ctx))  # as its minute cron
                traded = asyncio.Event()
                lag = asyncio.create_task(_worst_lag(traded))
                await eventually(lambda: _ended(sessions, run_id), timeout=120, what="the end")
                seconds = time.monotonic() - started
                traded.set()
                await eventually(lambda: _tried(sessions, bystander), timeout=30, what="the sends")
                alerts.cancel()
        finally:
            await _unlink(sessions, chat)  # later tests' alert crons would send it what is due
    assert (await run_row(sessions, run_id)).status == "finished"
    fills = [(f.ts, f.side, f.price, f.qty) for f in await fills_of(sessions, run_id)]
    return Traded(seconds, await lag, fills, await _sends(sessions, bystander))


async def _worst_lag(done: asyncio.Event) -> float:
    worst = 0.0
    while not done.is_set():
        before = time.monotonic()
        await asyncio.sleep(0.01)
        worst = max(worst, time.monotonic() - before - 0.01)
    return worst


async def _has_state(ctx: dict[str, Any]) -> bool:
    return STATE in ctx


async def _ended(sessions: async_sessionmaker[AsyncSession], run_id: str) -> bool:
    return (await run_row(sessions, run_id)).status == "finished"


async def _tried(sessions: async_sessionmaker[AsyncSession], client: str) -> bool:
    sends = await _sends(sessions, client)
    return "telegram" in sends and sends.get("email") not in (None, "queued")


async def test_hanging_receivers_change_neither_the_fills_nor_their_pace(
    worker_env: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    healthy = await trade(worker_env, sessions, hanging=False)
    hanging = await trade(worker_env, sessions, hanging=True)

    assert healthy.sends == {"email": "delivered", "telegram": "delivered"}
    assert hanging.sends == {"email": "retrying", "telegram": "retrying"}
    assert len(healthy.fills) >= 10
    assert hanging.fills == healthy.fills
    for name, traded in (("healthy", healthy), ("hanging", hanging)):
        print(f"paper run, {name} receivers: {traded.seconds:.2f} s, {len(traded.fills)} fills, "
              f"worst loop lag {traded.loop_lag:.3f} s")  # fmt: skip
    assert hanging.loop_lag < MAX_LOOP_LAG_S
    assert hanging.seconds <= healthy.seconds * SLOWER_BY_AT_MOST + SLACK_S
