"""SQL of one client's exchange keys (always within the client's scope)."""

from __future__ import annotations

from collections.abc import Sequence

from tradebot.kit.repository import ScopedRepository
from tradebot.models.credentials import ClientApiCredential
from tradebot.models.runs import BotGuardState


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


class KillSwitchRepository(ScopedRepository[BotGuardState]):
    """Trips the client's kill switch (a guard row of no run) when a key is refused for
    withdrawals: the runs package reads and resets it (``runs.repository.GuardRepository``)."""

    model = BotGuardState
    noun = "guard"

    async def trip(self, guard: str, reason: str, ts: int) -> None:
        await self.add(
            BotGuardState(
                client_id=self.scope.client_id,
                run_id=None,
                guard=guard,
                reason=reason,
                tripped_ts=ts,
            )
        )
