"""The daily P&L email: queued once per client and day, then delivered by an arq job.

The worker's cron queues a send (a ``notification_sends`` row, status ``queued``) for every
client whose plan includes the email and whose day was summarised; the job renders the message
and hands it to the mail server. A failed attempt is recorded (``retrying``, the error, the
next attempt's time) and retried with exponential backoff; after ``MAX_ATTEMPTS`` the send is
``failed``. Nothing here runs on a trading path: a dead mail server only delays emails.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.clients.repository import AuditRepository
from tradebot.config import Settings
from tradebot.db import transaction
from tradebot.kit.clock import utcnow
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.kit.service import ClientService
from tradebot.models.notifications import NotificationSend, SendStatus
from tradebot.notifications.channels import email_included
from tradebot.notifications.daily_report import daily_email, daily_report
from tradebot.notifications.mailer import SEND_ERRORS, Mailer
from tradebot.notifications.preferences import preferences_of
from tradebot.notifications.repository import RecipientRepository, SendRepository
from tradebot.notifications.schemas import TelegramLinkCode
from tradebot.notifications.telegram import TelegramLinks

log = logging.getLogger(__name__)
EMAIL = "email"
DAILY_PNL = "daily_pnl"
MAX_ATTEMPTS = 5


def backoff_s(attempt: int) -> int:
    """Seconds before attempt ``attempt + 1``: 1, 4, 16, then 60 minutes."""
    return int(min(60 * 4 ** (attempt - 1), 3600))


class DailyEmails:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings

    async def queue(self, client_id: str, plan: str, day: date) -> int | None:
        """Record the day's email of the client; its id, or ``None`` when there is nothing to
        send (email off, plan without it, day not summarised, or already queued)."""
        if not self.settings.SMTP_HOST or not email_included(plan):
            return None
        scope = ClientScope.of(client_id)
        # The login directory is read on the operator connection only (``models.auth``).
        async with transaction(self.sessions) as session:
            recipients = await RecipientRepository(session, scope).emails()
        async with client_transaction(self.sessions, scope) as session:
            if not (await preferences_of(session, scope)).daily_email:
                return None
            report = await daily_report(session, scope, day)
            sends = SendRepository(session, scope)
            if report is None or await sends.find_key(EMAIL, DAILY_PNL, day.isoformat()):
                return None
            row = await sends.add(
                NotificationSend(
                    client_id=client_id,
                    channel=EMAIL,
                    kind=DAILY_PNL,
                    key=day.isoformat(),
                    recipients=", ".join(recipients)[:1000],
                    subject=report.subject,
                    status=SendStatus.QUEUED.value if recipients else SendStatus.FAILED.value,
                    last_error=None if recipients else "the client has no user with an email",
                )
            )
            return row.id if recipients else None

    async def deliver(self, client_id: str, send_id: int, attempt: int) -> SendStatus:
        """One attempt at send ``send_id``; its status afterwards (``retrying``: try again after
        ``backoff_s(attempt)``). A send already delivered or failed is left as it is."""
        scope = ClientScope.of(client_id)
        async with client_transaction(self.sessions, scope) as session:
            row = await SendRepository(session, scope).get(send_id)
            if row.status in (SendStatus.DELIVERED.value, SendStatus.FAILED.value):
                return SendStatus(row.status)
            report = await daily_report(session, scope, date.fromisoformat(row.key))
            recipients = [address for address in row.recipients.split(", ") if address]
        error: str | None = None
        if report is None:
            error = "the day's summary is gone"
        elif not self.settings.SMTP_HOST:
            error = "SMTP_HOST is not set on this worker"
        else:
            mailer = Mailer(self.settings)
            try:
                await mailer.send(daily_email(report, mailer.sender, recipients))
            except SEND_ERRORS as exc:
                error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
                log.warning("daily email %s of %s: attempt %d failed: %s", send_id, client_id,
                            attempt, error)  # fmt: skip
        return await self._record(scope, send_id, attempt, error)

    async def _record(
        self, scope: ClientScope, send_id: int, attempt: int, error: str | None
    ) -> SendStatus:
        now = utcnow()
        if error is None:
            status = SendStatus.DELIVERED
        elif attempt >= MAX_ATTEMPTS:
            status = SendStatus.FAILED
        else:
            status = SendStatus.RETRYING
        async with client_transaction(self.sessions, scope) as session:
            row = await SendRepository(session, scope).get(send_id)
            row.status, row.attempts, row.updated_at = status.value, attempt, now
            row.last_error = error
            row.delivered_at = now if status is SendStatus.DELIVERED else None
            row.next_attempt_at = (
                now + timedelta(seconds=backoff_s(attempt))
                if status is SendStatus.RETRYING
                else None
            )
        return status


class TelegramLinkService(ClientService):
    """What the portal asks about Telegram: a one-time code, and the chats linked."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        scope: ClientScope,
        actor: str,
        subject: str,
        links: TelegramLinks,
    ) -> None:
        super().__init__(sessions, scope, actor)
        self.subject = subject
        self.links = links

    async def link_code(self) -> TelegramLinkCode:
        async with self.tx() as session:
            code = await self.links.create(session, self.scope, self.subject)
            await AuditRepository(session, self.scope).record(
                self.actor, "telegram_link_code_created", target="telegram"
            )
        return TelegramLinkCode(
            code=code.code, command=f"/start {code.code}", expires_in_s=code.expires_in_s
        )
