"""Billing: the plan a client holds, the Stripe sessions that change it, and Stripe's events.

A webhook event is handled once: its id is stored in the same tenant transaction as the
subscription state and the client's plan it changes (or the refund or dispute it records), so a
redelivery (or a concurrent duplicate, caught by the primary key) changes nothing. A charge
event names its client through the charge's Stripe customer (a dispute through its charge,
asked of Stripe). Events that name no client of ours are stored without a client, as
``ignored``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from tradebot.billing.charge_events import (
    CHARGE_EVENTS,
    DISPUTE_EVENTS,
    REFUNDED,
    WEBHOOK_ACTOR,
    apply_dispute,
    apply_refunded,
)
from tradebot.billing.entitlements import AccountFacts
from tradebot.billing.errors import BillingUnavailableError
from tradebot.billing.events import HANDLED, client_of, update_of
from tradebot.billing.gateway import StripeGateway, WebhookVerifier
from tradebot.billing.plan_changes import apply_update
from tradebot.billing.repository import (
    EntitlementRepository,
    StripeEventRepository,
    SubscriptionRepository,
)
from tradebot.billing.schemas import BillingView, PlanView
from tradebot.clients.plans import PlanName
from tradebot.clients.repository import ClientRepository
from tradebot.db import transaction
from tradebot.errors import BadInputError, ConflictError
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.models.billing import ClientSubscription, StripeEvent


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
        kind = event.get("type")
        obj = event.get("data", {}).get("object") if isinstance(event.get("data"), dict) else None
        charge = kind in CHARGE_EVENTS and isinstance(obj, dict) and isinstance(obj.get("id"), str)
        client = client_of(event)
        if client is None and charge:
            client = await self._client_of_charge(kind, obj)  # type: ignore[arg-type]
        try:
            scope = ClientScope.of(client) if client else None
        except BadInputError:
            scope = None
        try:
            if scope is not None and charge:
                return await self._apply_charge(scope, event)
            if scope is None or kind not in HANDLED:
                return await self._unclaimed(event)
            return await self._apply(scope, event)
        except IntegrityError:
            return "duplicate"  # a concurrent delivery of the same event committed first

    async def _client_of_charge(self, kind: str, obj: dict) -> str | None:  # type: ignore[type-arg]
        """The client whose Stripe customer the charge (or the disputed charge) belongs to."""
        customer = obj.get("customer")
        customer = customer.get("id") if isinstance(customer, dict) else customer
        charge = obj.get("charge")
        if not customer and kind in DISPUTE_EVENTS and isinstance(charge, str) and charge:
            if self.gateway is None:
                raise BillingUnavailableError("billing is not configured on this server")
            customer = (await self.gateway.charge(charge)).customer
        if not isinstance(customer, str) or not customer:
            return None
        async with transaction(self.sessions) as session:  # no tenant yet: the operator's view
            found = await session.scalar(
                select(col(ClientSubscription.client_id)).where(
                    col(ClientSubscription.stripe_customer_id) == customer
                )
            )
        return str(found) if found else None

    async def _apply_charge(self, scope: ClientScope, event: dict) -> str:  # type: ignore[type-arg]
        async with client_transaction(self.sessions, scope) as session:
            events = StripeEventRepository(session, scope)
            if await events.find(event["id"]) is not None:
                return "duplicate"
            client = await ClientRepository(session, scope).find(scope.client_id)
            if client is None:
                return await self._unclaimed(event)
            obj, kind = event["data"]["object"], event["type"]
            if kind == REFUNDED:
                outcome = await apply_refunded(session, scope, client, obj)
            else:
                created = int(event.get("created") or 0)
                outcome = await apply_dispute(session, scope, kind, created, obj)
            await events.add(_stored(event, scope.client_id, outcome))
            return outcome

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
            cause = {"event": event["id"]}
            applied = await apply_update(session, scope, client, update, WEBHOOK_ACTOR, cause)
            outcome = "applied" if applied else "stale"
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
