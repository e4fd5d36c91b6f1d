"""arq jobs of notifications: the crons that queue emails (the daily P&L, the transactional
mails) and the job that delivers one send.

Sends never run in a run's job: a mail server that is down or hanging delays only these jobs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from arq.worker import Retry

from tradebot.admin.repository import AdminRepository
from tradebot.db import transaction
from tradebot.kit.clock import utcnow
from tradebot.models.notifications import SendStatus
from tradebot.notifications.mail_events import mail_events
from tradebot.notifications.service import DailyEmails, EmailSends, TransactionalMails, backoff_s
from tradebot.notifications.telegram import (
    TelegramAlerts,
    TelegramDesk,
    answer_commands,
    telegram_bot,
)
from tradebot.runs.queue import ArqRunQueue
from tradebot.workers.state import STATE, WorkerState

SEND_JOB = "send_notification"


def send_job_id(queue_name: str, send_id: int) -> str:
    """One job per send: queuing it twice runs it once. arq's job ids are global to the Redis
    server, and send ids are only unique in one database: the queue's name keeps two
    deployments (or two test databases) on one Redis from taking each other's ids."""
    return f"{queue_name}:notification-{send_id}"


async def queue_daily_emails(state: WorkerState, day: date) -> list[int]:
    """Queue the day's email of every client that gets one and enqueue its delivery."""
    emails = DailyEmails(state.sessions, state.settings)
    async with transaction(state.sessions) as session:
        clients = list(await AdminRepository(session).clients())
    queue = state.settings.RUN_QUEUE_NAME
    queued: list[int] = []
    for client in clients:
        send_id = await emails.queue(client.id, client.plan, day)
        if send_id is not None:
            await state.redis.enqueue_job(
                SEND_JOB, client.id, send_id, _job_id=send_job_id(queue, send_id), _queue_name=queue
            )  # fmt: skip
            queued.append(send_id)
    return queued


async def queue_transactional_mails(state: WorkerState, now: datetime) -> list[int]:
    """Queue a mail per event not yet looked at (``mail_events``) and enqueue its delivery,
    deferred to the end of the client's quiet hours when it waits for them."""
    if not state.settings.SMTP_HOST:
        return []  # email is off on this worker: the events stay for one that has it
    async with transaction(state.sessions) as session:
        events = await mail_events(session, now)
    mails = TransactionalMails(state.sessions, state.settings)
    queue = state.settings.RUN_QUEUE_NAME
    queued: list[int] = []
    for event in events:
        send = await mails.queue(event, now)
        if send is not None:
            await state.redis.enqueue_job(
                SEND_JOB, event.client_id, send.send_id, _job_id=send_job_id(queue, send.send_id),
                _queue_name=queue, _defer_until=send.not_before,
            )  # fmt: skip
            queued.append(send.send_id)
    return queued


async def transactional_mails(ctx: dict[str, Any]) -> list[int]:
    """arq cron (every minute): the mails of what happened since the last look."""
    return await queue_transactional_mails(ctx[STATE], utcnow())


async def daily_emails(ctx: dict[str, Any]) -> list[int]:
    """arq cron (after ``daily_pnl``): yesterday's email per client."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    return await queue_daily_emails(ctx[STATE], yesterday)


async def send_notification(ctx: dict[str, Any], client_id: str, send_id: int) -> str:
    """arq job: one attempt at a send; a failed one is retried by arq after the backoff."""
    attempt = int(ctx.get("job_try", 1))
    status = await EmailSends(ctx[STATE].sessions, ctx[STATE].settings).deliver(
        client_id, send_id, attempt
    )
    if status is SendStatus.RETRYING:
        raise Retry(defer=backoff_s(attempt))
    return status.value


async def telegram_commands(ctx: dict[str, Any]) -> int:
    """arq cron (every minute): answer the linked chats' commands for ``TELEGRAM_POLL_S``."""
    state: WorkerState = ctx[STATE]
    if state.settings.TELEGRAM_BOT_TOKEN is None:
        return 0
    queue = ArqRunQueue(state.redis, state.settings.RUN_QUEUE_NAME)
    desk = TelegramDesk(state.sessions, state.redis, state.settings, queue)
    async with telegram_bot(state.settings) as bot:
        return await answer_commands(bot, desk, state.settings.TELEGRAM_POLL_S)


async def telegram_alerts(ctx: dict[str, Any]) -> int:
    """arq cron (every minute): one message per linked chat with what happened since."""
    state: WorkerState = ctx[STATE]
    if state.settings.TELEGRAM_BOT_TOKEN is None:
        return 0
    # Not ``async with``: entering asks getMe first, and a Bot API that hangs or is down
    # would fail the whole cron there, before any due alert is tried and recorded as retrying.
    bot = telegram_bot(state.settings)
    try:
        return await TelegramAlerts(state.sessions).send_all(bot)
    finally:
        await bot.shutdown()
