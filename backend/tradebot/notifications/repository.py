"""SQL of one client's notifications: its sends, its recipients, its daily summaries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col

from tradebot.kit.repository import ScopedRepository
from tradebot.models.auth import User
from tradebot.models.clients import AuditLog
from tradebot.models.notifications import NotificationSend
from tradebot.models.runs import BotGuardState


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


class GuardEventRepository(ScopedRepository[BotGuardState]):
    model = BotGuardState
    noun = "guard"

    async def tripped_between(self, start: datetime, end: datetime) -> Sequence[BotGuardState]:
        return await self.list(
            col(BotGuardState.tripped_at) >= start,
            col(BotGuardState.tripped_at) < end,
            order_by=(BotGuardState.tripped_at, BotGuardState.id),
        )
