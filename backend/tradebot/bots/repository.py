"""SQL of one client's bots, always within the client's scope."""

from __future__ import annotations

from collections.abc import Sequence

from tradebot.kit.repository import ScopedRepository
from tradebot.models.bots import Bot


class BotRepository(ScopedRepository[Bot]):
    model = Bot
    noun = "bot"

    async def all(self) -> Sequence[Bot]:
        return await self.list(order_by=(Bot.created_at, Bot.id))
