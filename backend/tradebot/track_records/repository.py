"""SQL of public track records: the client's own, and the directory by slug."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tradebot.kit.repository import ScopedRepository
from tradebot.models.runs import BotRun
from tradebot.models.track_records import PublicTrackRecord


class TrackRecordRepository(ScopedRepository[PublicTrackRecord]):
    """The client's published records (on the operator connection: not a tenant table)."""

    model = PublicTrackRecord
    noun = "track record"

    async def all(self) -> Sequence[PublicTrackRecord]:
        return await self.list(order_by=(PublicTrackRecord.created_at,))

    async def of_bot(self, bot_id: str) -> PublicTrackRecord | None:
        rows = await self.list(col(PublicTrackRecord.bot_id) == bot_id)
        return rows[0] if rows else None


class TrackRecordDirectory:
    """A slug to its record, before any tenant is known (operator connection only)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, slug: str) -> PublicTrackRecord | None:
        return await self.session.get(PublicTrackRecord, slug)


class BotRunsRepository(ScopedRepository[BotRun]):
    model = BotRun
    noun = "run"

    async def of_bot(self, bot_id: str) -> list[BotRun]:
        rows = await self.list(order_by=(BotRun.created_at,))
        return [row for row in rows if row.config.get("bot_id") == bot_id]
