"""SQL of one client's notifications: its sends, its recipients, its daily summaries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tradebot.kit.repository import ScopedRepository
from tradebot.models.auth import User
from tradebot.models.clients import AuditLog
from tradebot.models.notifications import NotificationSend, TelegramChat
from tradebot.models.runs import BotFill, BotGuardState


class SendRepository(ScopedRepository[NotificationSend]):
    model = NotificationSend
    noun = "notification"

    async def find_key(self, channel: str, kind: str, key: str) -> NotificationSend | None:
        rows = await self.list(
            col(NotificationSend.channel) == channel,
            col(NotificationSend.kind) == kind,
            col(NotificationSend.key) == key,
        )
        return rows[0] if rows else None

    async def all(self) -> Sequence[NotificationSend]:
        return await self.list(order_by=(NotificationSend.id,))


class RecipientRepository(ScopedRepository[User]):
    """The client's users: who its emails go to."""

    model = User
    noun = "user"

    async def emails(self) -> list[str]:
        rows = await self.list(order_by=(User.created_at, User.sub))
        return [row.email for row in rows if row.email]


class DailySummaryRepository(ScopedRepository[AuditLog]):
    """The daily P&L summaries the worker's ``daily_pnl`` cron writes to the audit trail."""

    model = AuditLog
    noun = "daily summary"

    async def of_day(self, day_target: str) -> AuditLog | None:
        rows = await self.list(
            col(AuditLog.action) == "daily_pnl",
            col(AuditLog.target) == day_target,
            order_by=(col(AuditLog.at).desc(),),
        )
        return rows[0] if rows else None

    async def latest(self) -> AuditLog | None:
        rows = await self.list(
            col(AuditLog.action) == "daily_pnl", order_by=(col(AuditLog.at).desc(),)
        )
        return rows[0] if rows else None


class GuardEventRepository(ScopedRepository[BotGuardState]):
    model = BotGuardState
    noun = "guard"

    async def tripped_between(self, start: datetime, end: datetime) -> Sequence[BotGuardState]:
        return await self.list(
            col(BotGuardState.tripped_at) >= start,
            col(BotGuardState.tripped_at) < end,
            order_by=(BotGuardState.tripped_at, BotGuardState.id),
        )


class TelegramChatDirectory:
    """The linked Telegram chats, by chat. Not a tenant table: read and written on the operator
    connection only (as the login directory), because a message names only its chat."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, chat_id: int) -> TelegramChat | None:
        return await self.session.get(TelegramChat, chat_id)

    async def all(self) -> Sequence[TelegramChat]:
        query = select(TelegramChat).order_by(col(TelegramChat.chat_id))
        return (await self.session.execute(query)).scalars().all()

    async def link(self, row: TelegramChat) -> TelegramChat:
        """Link the chat (a chat linked before, to any client, now belongs to ``row``'s)."""
        return await self.session.merge(row)


class NewFillRepository(ScopedRepository[BotFill]):
    model = BotFill
    noun = "fill"

    async def after(self, cursor: int, limit: int) -> Sequence[BotFill]:
        """The client's fills recorded after fill ``cursor``, oldest first."""
        query = self._select().where(col(BotFill.id) > cursor).order_by(col(BotFill.id))
        return (await self.session.execute(query.limit(limit))).scalars().all()

    async def last_id(self) -> int:
        query = select(func.max(BotFill.id)).where(self._in_scope())
        return int(await self.session.scalar(query) or 0)


class NewGuardRepository(ScopedRepository[BotGuardState]):
    model = BotGuardState
    noun = "guard"

    async def after(self, cursor: int) -> Sequence[BotGuardState]:
        return await self.list(col(BotGuardState.id) > cursor, order_by=(BotGuardState.id,))

    async def last_id(self) -> int:
        query = select(func.max(BotGuardState.id)).where(self._in_scope())
        return int(await self.session.scalar(query) or 0)
