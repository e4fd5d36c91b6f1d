"""Public track records: a client publishes a bot's record under a random slug; anyone with
the link sees its return, drawdown, days live and fills, never who or how much.

The figures are ratios of the bot's runs' engine state (return: P&L over the capital
invested; drawdown: the deepest drawdown over the capital), so no amount is shown. A record
is computed at most once a minute per slug (``ExpiringCache``); whether the slug is still
published is read on every request, so opting out takes effect at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.bots.repository import BotRepository
from tradebot.clients.repository import AuditRepository
from tradebot.db import transaction
from tradebot.engine import core
from tradebot.errors import NotFoundError
from tradebot.kit.cache import ExpiringCache
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.kit.service import ClientService
from tradebot.models.runs import BotRun, RunMode
from tradebot.models.track_records import PublicTrackRecord as PublishedRow
from tradebot.track_records.repository import (
    BotRunsRepository,
    TrackRecordDirectory,
    TrackRecordRepository,
)
from tradebot.track_records.schemas import PublicTrackRecord, TrackRecordView

CACHE_TTL_S = 60.0
PUBLIC_PATH = "/public/track-records/"
_figures: ExpiringCache[str, PublicTrackRecord] = ExpiringCache(4096)


def _view(row: PublishedRow) -> TrackRecordView:
    return TrackRecordView(
        slug=row.slug, bot_id=row.bot_id, path=PUBLIC_PATH + row.slug, created_at=row.created_at
    )


def _slot(run: BotRun, slot: int) -> float:
    return float(run.state[slot]) if len(run.state) >= core.STATE_SIZE else 0.0


def figures(pair: str, exchange: str, runs: Sequence[BotRun], now: datetime) -> PublicTrackRecord:
    """The anonymised figures of a bot's runs (live runs once it has any, else paper)."""
    live = [run for run in runs if run.mode == RunMode.LIVE.value]
    shown = live or list(runs)
    invested = sum(_slot(run, core.INVESTMENT) for run in shown)
    pnl = sum(_slot(run, core.EQUITY) - _slot(run, core.INVESTMENT) for run in shown)
    drawdown = max((_slot(run, core.MAX_DRAWDOWN) / _slot(run, core.INVESTMENT)
                    for run in shown if _slot(run, core.INVESTMENT) > 0), default=0.0)  # fmt: skip
    since = min((run.created_at for run in shown), default=None)
    first = since.replace(tzinfo=since.tzinfo or UTC) if since is not None else None
    return PublicTrackRecord(
        pair=pair,
        exchange=exchange,
        mode=RunMode.LIVE.value if live else RunMode.PAPER.value,
        return_pct=round(100 * pnl / invested, 2) if invested > 0 else 0.0,
        max_drawdown_pct=round(100 * abs(drawdown), 2),
        days_live=(now - first).days if first is not None else 0,
        fills=sum(run.fill_count for run in shown),
        since=first.date() if first is not None else None,
    )


async def public_record(sessions: async_sessionmaker[AsyncSession], slug: str) -> PublicTrackRecord:
    """The public figures behind ``slug``; ``NotFoundError`` once it is unpublished."""
    async with transaction(sessions) as session:
        row = await TrackRecordDirectory(session).find(slug)
    if row is None:
        raise NotFoundError("no such track record")
    cached = _figures.get(slug)
    if cached is not None:
        return cached
    scope = ClientScope.of(row.client_id)
    async with client_transaction(sessions, scope) as session:
        bot = await BotRepository(session, scope).find(row.bot_id)
        if bot is None:
            raise NotFoundError("no such track record")
        runs = await BotRunsRepository(session, scope).of_bot(bot.id)
    record = figures(bot.pair, bot.exchange, runs, datetime.now(UTC))
    _figures.put(slug, record, CACHE_TTL_S)
    return record


class TrackRecordService(ClientService):
    async def publish(self, bot_id: str) -> TrackRecordView:
        """Publish the bot's record (publishing it again returns the same slug)."""
        async with self.tx() as session:
            await BotRepository(session, self.scope).get(bot_id)
        async with transaction(self.sessions) as session:
            records = TrackRecordRepository(session, self.scope)
            existing = await records.of_bot(bot_id)
            if existing is not None:
                return _view(existing)
            row = await records.add(
                PublishedRow(slug=secrets.token_hex(11), client_id=self.scope.client_id,
                             bot_id=bot_id)
            )  # fmt: skip
        async with self.tx() as session:
            await AuditRepository(session, self.scope).record(
                self.actor, "track_record_published", target=f"bot {bot_id}"
            )
        return _view(row)

    async def list(self) -> list[TrackRecordView]:
        async with transaction(self.sessions) as session:
            return [_view(row) for row in await TrackRecordRepository(session, self.scope).all()]

    async def unpublish(self, slug: str) -> None:
        async with transaction(self.sessions) as session:
            await TrackRecordRepository(session, self.scope).delete(slug)
        async with self.tx() as session:
            await AuditRepository(session, self.scope).record(
                self.actor, "track_record_unpublished", target=f"track record {slug}"
            )
