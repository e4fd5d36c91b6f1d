"""SQL of one client's consent acceptances, always within the client's scope."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col

from tradebot.kit.repository import ScopedRepository
from tradebot.models.consent import ConsentAcceptance


class ConsentRepository(ScopedRepository[ConsentAcceptance]):
    model = ConsentAcceptance
    noun = "consent"

    async def history(self) -> Sequence[ConsentAcceptance]:
        """Every acceptance of the client, oldest first."""
        return await self.list(order_by=(ConsentAcceptance.accepted_at, ConsentAcceptance.id))

    async def accepted_versions(self, documents: Sequence[str]) -> set[tuple[str, int]]:
        """The (document, version) pairs of ``documents`` the client accepted."""
        rows = await self.list(col(ConsentAcceptance.document).in_(documents))
        return {(row.document, row.version) for row in rows}
