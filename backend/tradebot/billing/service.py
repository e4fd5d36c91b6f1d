"""Billing: the plan a client holds, the Stripe sessions that change it, and Stripe's events.

A webhook event is handled once: its id is stored in the same tenant transaction as the
subscription state and the client's plan it changes, so a redelivery (or a concurrent
duplicate, caught by the primary key) changes nothing. Events that name no client of ours are
stored without a client, as ``ignored``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.billing.entitlements import AccountFacts
from tradebot.billing.errors import BillingUnavailableError
from tradebot.billing.events import HANDLED, client_of, entitled_plan, merge, update_of
from tradebot.billing.gateway import StripeGateway, WebhookVerifier
from tradebot.billing.repository import (
    EntitlementRepository,
    StripeEventRepository,
    SubscriptionRepository,
)
from tradebot.billing.schemas import BillingView, PlanView
from tradebot.clients.plans import PlanName
from tradebot.clients.repository import AuditRepository, ClientRepository
from tradebot.db import transaction
from tradebot.errors import BadInputError, ConflictError
from tradebot.kit.clock import utcnow
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.models.billing import StripeEvent

WEBHOOK_ACTOR = "stripe:webhook"


def billing_view(facts: AccountFacts) -> BillingView:
    spec = facts.spec
    return BillingView(
        plan=PlanView.model_validate(spec.to_json()),
        subscription_status=facts.subscription_status,
        paid=facts.paid,
        trial_ends=facts.trial_ends() if spec.name is PlanName.TRIAL else None,
        live_trading_from=facts.live_from(),
        bots=facts.bots,
        running_bots=facts.running_bots,
        exchanges=sorted(facts.exchanges),
    )


class BillingService:
    """One client's plan and its Stripe sessions."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        scope: ClientScope,
        gateway: StripeGateway | None,
    ) -> None:
        self.sessions = sessions
        self.scope = scope
        self.gateway = gateway

    def _stripe(self) -> StripeGateway:
        if self.gateway is None:
            raise BillingUnavailableError("billing is not configured on this server")
        return self.gateway

    async def summary(self) -> BillingView:
        async with client_transaction(self.sessions, self.scope) as session:
            return billing_view(await EntitlementRepository(session, self.scope).facts())

    async def checkout(self, plan: str, email: str) -> str:
        gateway = self._stripe()
        async with client_transaction(self.sessions, self.scope) as session:
            row = await SubscriptionRepository(session, self.scope).own()
        customer = row.stripe_customer_id if row else None
        return await gateway.checkout_url(self.scope.client_id, PlanName(plan), customer, email)

    async def portal(self) -> str:
        gateway = self._stripe()
        async with client_transaction(self.sessions, self.scope) as session:
            row = await SubscriptionRepository(session, self.scope).own()
        if row is None or not row.stripe_customer_id:
            raise ConflictError("no Stripe customer yet: subscribe through checkout first")
        return await gateway.portal_url(row.stripe_customer_id)


class StripeWebhooks:
    """Applies Stripe's events to the clients they name."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        verifier: WebhookVerifier | None,
        gateway: StripeGateway | None,
    ) -> None:
        self.sessions = sessions
        self.verifier = verifier
        self.gateway = gateway

    async def receive(self, payload: bytes, signature: str | None) -> str:
        """Verify, then apply once; returns the outcome."""
        if self.verifier is None:
            raise BillingUnavailableError("Stripe webhooks are not configured on this server")
        event = self.verifier.event(payload, signature)
        client = client_of(event)
        try:
            scope = ClientScope.of(client) if client else None
        except BadInputError:
            scope = None
        try:
            if scope is None or event.get("type") not in HANDLED:
                return await self._unclaimed(event)
            return await self._apply(scope, event)
        except IntegrityError:
            return "duplicate"  # a concurrent delivery of the same event committed first

    async def _apply(self, scope: ClientScope, event: dict) -> str:  # type: ignore[type-arg]
        plan_of_price = self.gateway.plan_of_price if self.gateway else (lambda _price: None)
        update = update_of(event, plan_of_price)
        assert update is not None  # handled types always give one
        async with client_transaction(self.sessions, scope) as session:
            events = StripeEventRepository(session, scope)
            if await events.find(event["id"]) is not None:
                return "duplicate"
            client = await ClientRepository(session, scope).find(scope.client_id)
            if client is None:
                return await self._unclaimed(event)
            subscriptions = SubscriptionRepository(session, scope)
            current = await subscriptions.own()
            merged = merge(current, update, scope.client_id)
            outcome = "stale" if merged is None else "applied"
            if merged is not None:
                merged.updated_at = utcnow()
                await subscriptions.add(merged)
                plan = entitled_plan(merged)
                if client.plan != plan.value:
                    await AuditRepository(session, scope).record(
                        WEBHOOK_ACTOR,
                        "plan_changed",
                        target=f"client {client.id}",
                        details={"from": client.plan, "to": plan.value, "event": event["id"]},
                    )
                    client.plan, client.updated_at = plan.value, utcnow()
            await events.add(_stored(event, scope.client_id, outcome))
            return outcome

    async def _unclaimed(self, event: dict) -> str:  # type: ignore[type-arg]
        """Store an event that names no client of ours (operator transaction, no tenant)."""
        async with transaction(self.sessions) as session:
            if await session.get(StripeEvent, event["id"]) is not None:
                return "duplicate"
            session.add(_stored(event, None, "ignored"))
            await session.flush()
            return "ignored"


def _stored(event: dict, client_id: str | None, outcome: str) -> StripeEvent:  # type: ignore[type-arg]
    return StripeEvent(
        id=str(event["id"])[:255],
        client_id=client_id,
        type=str(event.get("type", ""))[:64],
        created=int(event.get("created") or 0),
        outcome=outcome,
        received_at=datetime.now(UTC),
    )
