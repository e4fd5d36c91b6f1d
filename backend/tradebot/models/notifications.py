"""Tables of the notifications domain: every message sent to a client, and how it went."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from tradebot.kit.clock import utcnow


class SendStatus(StrEnum):
    QUEUED = "queued"
    """Recorded, its job enqueued, not tried yet."""
    RETRYING = "retrying"
    """An attempt failed; the job tries again at ``next_attempt_at`` (backoff)."""
    DELIVERED = "delivered"
    """The server accepted it (SMTP 250, Bot API ok)."""
    FAILED = "failed"
    """Every attempt failed, or nothing could be sent (no recipient)."""
    SKIPPED = "skipped"
    """Not sent: the client's plan or preferences leave it out (recorded so that the event is
    looked at once)."""


class NotificationSend(SQLModel, table=True):
    """One message to one client on one channel, keyed by what it is about (``key``): the
    daily email of 2026-03-02 is queued once however often the cron runs."""

    __tablename__ = "notification_sends"
    __table_args__ = (
        UniqueConstraint("client_id", "channel", "kind", "key", name="uq_notification_sends_key"),
        Index("ix_notification_sends_status", "status", "next_attempt_at"),
        Index("ix_notification_sends_created", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(foreign_key="clients.id", index=True, max_length=64)
    channel: str = Field(max_length=16)
    kind: str = Field(max_length=32)
    key: str = Field(max_length=64)
    recipients: str = Field(default="", max_length=1000)
    subject: str = Field(default="", max_length=200)
    status: str = Field(default=SendStatus.QUEUED.value, max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None


class TelegramChat(SQLModel, table=True):
    """A Telegram chat linked to a client with a one-time code from the portal, and how far its
    alerts have gone (the last fill and guard alerted, when stopped runs were last looked at).

    Not a tenant table (as ``users``): a message from Telegram names only its chat, which is
    resolved to its client before any tenant can be set, on the operator connection only.
    """

    __tablename__ = "telegram_chats"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    client_id: str = Field(foreign_key="clients.id", index=True, max_length=64)
    linked_by: str = Field(max_length=255)
    """The token subject of the user who created the code."""
    linked_at: datetime = Field(default_factory=utcnow)
    fill_cursor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    guard_cursor: int = 0
    runs_checked_at: datetime = Field(default_factory=utcnow)


class NotificationPreferences(SQLModel, table=True):
    """A client's notification choices (no row: the defaults). Quiet hours are UTC hours
    ``[quiet_from_hour, quiet_to_hour)``, wrapping midnight when ``from > to``: alerts wait
    for their end, guard trips never do."""

    __tablename__ = "notification_preferences"

    client_id: str = Field(foreign_key="clients.id", primary_key=True, max_length=64)
    daily_email: bool = True
    telegram_alerts: bool = True
    fill_alerts: bool = True
    alert_emails: bool = True
    """Emails about its runs (guard trips, stopped runs); account mails are always sent."""
    quiet_from_hour: int | None = None
    quiet_to_hour: int | None = None
    updated_at: datetime = Field(default_factory=utcnow)
