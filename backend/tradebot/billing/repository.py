"""SQL of one client's billing: its subscription row, its handled Stripe events, and the facts
the entitlement checks need (all filtered by the client, inside its tenant transaction)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tradebot.billing.entitlements import AccountFacts
from tradebot.kit.repository import ScopedRepository
from tradebot.kit.scope import ClientScope
from tradebot.models.billing import ClientSubscription, StripeEvent
from tradebot.models.bots import Bot
from tradebot.models.clients import Client
from tradebot.models.credentials import ClientApiCredential
from tradebot.models.refunds import ChargeDispute, RefundRequest
from tradebot.models.runs import BotRun, RunMode, RunStatus

ACTIVE_RUN = (RunStatus.CREATED.value, RunStatus.RUNNING.value)


class SubscriptionRepository(ScopedRepository[ClientSubscription]):
    model = ClientSubscription
    noun = "subscription"

    async def own(self) -> ClientSubscription | None:
        return await self.find(self.scope.client_id)


class StripeEventRepository(ScopedRepository[StripeEvent]):
    model = StripeEvent
    noun = "stripe event"


class RefundRepository(ScopedRepository[RefundRequest]):
    model = RefundRequest
    noun = "refund request"

    async def locked(self, request_id: int) -> RefundRequest | None:
        """The scope's request, its row held until the transaction ends."""
        query = self._select().where(self._by_id(request_id)).with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def of_subscription(self, subscription_id: str) -> RefundRequest | None:
        rows = await self.list(col(RefundRequest.stripe_subscription_id) == subscription_id)
        return rows[0] if rows else None

    async def of_charge(self, charge_id: str) -> RefundRequest | None:
        rows = await self.list(col(RefundRequest.stripe_charge_id) == charge_id)
        return rows[0] if rows else None


class DisputeRepository(ScopedRepository[ChargeDispute]):
    model = ChargeDispute
    noun = "dispute"


class EntitlementRepository:
    """Gathers ``AccountFacts`` for the scope's client."""

    def __init__(self, session: AsyncSession, scope: ClientScope) -> None:
        self.session = session
        self.scope = scope

    async def facts(self, *, lock: bool = False) -> AccountFacts:
        """The facts now; ``lock`` holds the client row until the transaction ends."""
        client_id = self.scope.client_id
        query = select(Client).where(Client.id == client_id)  # type: ignore[arg-type]
        if lock:
            query = query.with_for_update()
        client = (await self.session.execute(query)).scalar_one()
        subscription = await SubscriptionRepository(self.session, self.scope).own()
        first_paper = await self.session.scalar(
            select(func.min(BotRun.created_at)).where(
                BotRun.client_id == client_id,  # type: ignore[arg-type]
                BotRun.mode == RunMode.PAPER.value,  # type: ignore[arg-type]
            )
        )
        running = await self.session.scalar(
            select(func.count()).where(
                BotRun.client_id == client_id,  # type: ignore[arg-type]
                BotRun.status.in_(ACTIVE_RUN),  # type: ignore[attr-defined]
            )
        )
        bots = await self.session.scalar(
            select(func.count()).where(Bot.client_id == client_id)  # type: ignore[arg-type]
        )
        exchanges = await self.session.scalars(
            select(col(ClientApiCredential.exchange))
            .where(col(ClientApiCredential.client_id) == client_id)
            .distinct()
        )
        return AccountFacts(
            client_id=client_id,
            plan=client.plan,
            client_status=client.status,
            client_created=client.created_at,
            subscription_status=subscription.status if subscription else None,
            first_paper_run=first_paper,
            bots=int(bots or 0),
            running_bots=int(running or 0),
            exchanges=frozenset(exchanges),
        )
