"""SQL of one client's exchange keys (always within the client's scope)."""

from __future__ import annotations

from collections.abc import Sequence

from tradebot.kit.repository import ScopedRepository
from tradebot.models.credentials import ClientApiCredential


class CredentialRepository(ScopedRepository[ClientApiCredential]):
    model = ClientApiCredential
    noun = "credentials"

    async def by_label(self, exchange: str, label: str) -> ClientApiCredential | None:
        rows = await self.list(
            ClientApiCredential.exchange == exchange,  # type: ignore[arg-type]
            ClientApiCredential.label == label,  # type: ignore[arg-type]
        )
        return rows[0] if rows else None

    async def all(self) -> Sequence[ClientApiCredential]:
        return await self.list(order_by=(ClientApiCredential.exchange, ClientApiCredential.label))
