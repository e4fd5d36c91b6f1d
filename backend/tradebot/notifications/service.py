"""Emails: the daily P&L and the transactional mails, each queued once, delivered by an arq job.

The worker's crons queue a send (a ``notification_sends`` row, status ``queued``): the day's
email of every client whose plan includes it and whose day was summarised, and a mail per event
of ``mail_events`` (a guard tripped, a run stopped...). The job renders the message from what
the send's key names and hands it to the mail server. A failed attempt is recorded
(``retrying``, the error, the next attempt's time) and retried with exponential backoff; after
``MAX_ATTEMPTS`` the send is ``failed``. Nothing here runs on a trading path: a dead mail
server only delays emails.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.clients.repository import AuditRepository, ClientRepository
from tradebot.config import Settings
from tradebot.db import transaction
from tradebot.errors import NotFoundError
from tradebot.kit.clock import utcnow
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.kit.service import ClientService
from tradebot.models.notifications import NotificationSend, SendStatus
from tradebot.notifications.channels import email_included
from tradebot.notifications.daily_report import daily_email, daily_report
from tradebot.notifications.mail_events import ACCOUNT_MAILS, URGENT, Mail, MailEvent
from tradebot.notifications.mailer import SEND_ERRORS, Mailer
from tradebot.notifications.preferences import preferences_of, quiet_end, quiet_now
from tradebot.notifications.repository import RecipientRepository, SendRepository
from tradebot.notifications.schemas import TelegramLinkCode
from tradebot.notifications.telegram import TelegramLinks
from tradebot.notifications.transactional import mail_content, transactional_email

log = logging.getLogger(__name__)
EMAIL = "email"
DAILY_PNL = "daily_pnl"
MAX_ATTEMPTS = 5


DONE = frozenset({SendStatus.DELIVERED.value, SendStatus.FAILED.value, SendStatus.SKIPPED.value})
"""Statuses no attempt changes any more."""


@dataclass(frozen=True)
class QueuedSend:
    send_id: int
    not_before: datetime | None
    """The end of the client's quiet hours, when the mail waits for it."""


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


def _first_status(wanted: bool, recipients: list[str]) -> tuple[SendStatus, str | None]:
    if not wanted:
        return SendStatus.SKIPPED, "left out by the plan or the preferences"
    if not recipients:
        return SendStatus.FAILED, "the client has no user with an email"
    return SendStatus.QUEUED, None


class TransactionalMails:
    """Keys refused, guard tripped, run stopped, trial ending, payment failed: one send per
    event (``mail_events``), recorded then delivered by the same job as the daily email."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings

    async def queue(self, event: MailEvent, now: datetime) -> QueuedSend | None:
        """Record the mail of ``event``; ``None`` when it is not to be sent (email off on this
        worker, or left out by the plan or the preferences: recorded as ``skipped``)."""
        if not self.settings.SMTP_HOST:
            return None
        scope = ClientScope.of(event.client_id)
        async with transaction(self.sessions) as session:
            recipients = await RecipientRepository(session, scope).emails()
        async with client_transaction(self.sessions, scope) as session:
            sends = SendRepository(session, scope)
            if await sends.find_key(EMAIL, event.kind.value, event.key):
                return None  # another worker's cron took it
            plan = (await ClientRepository(session, scope).own()).plan
            preferences = await preferences_of(session, scope)
            wanted = event.kind in ACCOUNT_MAILS or (
                email_included(plan) and preferences.alert_emails
            )
            try:
                subject = (await mail_content(session, scope, event.kind, event.key, now)).subject
                status, error = _first_status(wanted, recipients)
            except NotFoundError:
                subject, status, error = "", SendStatus.SKIPPED, f"{event.key} is gone"
            hold = event.kind not in URGENT and quiet_now(preferences, now)
            row = await sends.add(
                NotificationSend(
                    client_id=event.client_id, channel=EMAIL, kind=event.kind.value,
                    key=event.key, recipients=", ".join(recipients)[:1000],
                    subject=subject, status=status.value, last_error=error,
                    next_attempt_at=quiet_end(preferences, now) if hold else None,
                )
            )  # fmt: skip
        if status is not SendStatus.QUEUED:
            return None
        assert row.id is not None
        return QueuedSend(row.id, row.next_attempt_at)


class EmailSends:
    """One attempt at an email send of any kind: compose it from what its key names, hand it
    to the mail server, record how it went."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings

    async def deliver(self, client_id: str, send_id: int, attempt: int) -> SendStatus:
        """One attempt at send ``send_id``; its status afterwards (``retrying``: try again after
        ``backoff_s(attempt)``). A send already delivered, failed or skipped is left as it is."""
        scope = ClientScope.of(client_id)
        async with client_transaction(self.sessions, scope) as session:
            row = await SendRepository(session, scope).get(send_id)
            if row.status in DONE:
                return SendStatus(row.status)
            recipients = [address for address in row.recipients.split(", ") if address]
            message, error = await self._compose(session, scope, row, recipients)
        if message is not None and not self.settings.SMTP_HOST:
            error = "SMTP_HOST is not set on this worker"
        elif message is not None:
            try:
                await Mailer(self.settings).send(message)
            except SEND_ERRORS as exc:
                error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
                log.warning("email %s (%s) of %s: attempt %d failed: %s", send_id, row.kind,
                            client_id, attempt, error)  # fmt: skip
        return await self._record(scope, send_id, attempt, error)

    async def _compose(
        self, session: AsyncSession, scope: ClientScope, row: NotificationSend, to: list[str]
    ) -> tuple[EmailMessage | None, str | None]:
        sender = self.settings.SMTP_FROM
        if row.kind == DAILY_PNL:
            report = await daily_report(session, scope, date.fromisoformat(row.key))
            if report is None:
                return None, "the day's summary is gone"
            return daily_email(report, sender, to), None
        try:
            content = await mail_content(session, scope, Mail(row.kind), row.key, utcnow())
        except NotFoundError:
            return None, f"what the mail is about ({row.key}) is gone"
        return transactional_email(content, sender, to), None

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
