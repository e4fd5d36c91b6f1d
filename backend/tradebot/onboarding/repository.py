"""SQL of the onboarding state: the client's paper runs and stored keys (its scope only)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import col

from tradebot.kit.repository import ScopedRepository
from tradebot.models.credentials import ClientApiCredential
from tradebot.models.runs import BotRun, RunMode


class PaperRunRepository(ScopedRepository[BotRun]):
    model = BotRun
    noun = "run"

    async def count(self) -> int:
        query = select(func.count()).where(
            self._in_scope(), col(BotRun.mode) == RunMode.PAPER.value
        )
        return int(await self.session.scalar(query) or 0)


class KeyStatusRepository(ScopedRepository[ClientApiCredential]):
    model = ClientApiCredential
    noun = "credentials"

    async def statuses(self) -> list[str]:
        """The status of every stored key (never the key)."""
        query = select(col(ClientApiCredential.status)).where(self._in_scope())
        return list((await self.session.scalars(query)).all())
