"""Refunds: a client asks under its plan's policy, an operator refunds through Stripe.

The policy is data on the plan (``PlanSpec.refund_window_days``): money back on request within
that many days of subscribing, once per subscription; a money-back refund ends the
subscription (at Stripe and here, so the plan falls back to Trial at once).

Issuing is safe to repeat: every Stripe call carries an idempotency key made from the request's
id, so a retry after a failure half-way (refund made, cancellation refused) or a double click
gets the same refund back from Stripe, never a second one. A Stripe refusal leaves the request
``requested`` with the error noted, and answers a 503 problem.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from tradebot.billing.errors import BillingUnavailableError, PlanLimitError
from tradebot.billing.events import CANCELED, SubscriptionUpdate
from tradebot.billing.gateway import Charge, StripeGateway
from tradebot.billing.plan_changes import apply_update
from tradebot.billing.repository import (
    EntitlementRepository,
    RefundRepository,
    SubscriptionRepository,
)
from tradebot.billing.schemas import RefundRequestView
from tradebot.clients.repository import AuditRepository, ClientRepository
from tradebot.db import transaction
from tradebot.errors import BadInputError, ConflictError, NotFoundError
from tradebot.kit.clock import utcnow
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.models.refunds import RefundRequest

REQUESTED, ISSUED = "requested", "issued"


def refund_view(row: RefundRequest) -> RefundRequestView:
    return RefundRequestView.model_validate(row)


class RefundService:
    """One client's refund requests."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], scope: ClientScope) -> None:
        self.sessions = sessions
        self.scope = scope

    async def list(self) -> list[RefundRequestView]:
        async with client_transaction(self.sessions, self.scope) as session:
            rows = await RefundRepository(session, self.scope).list(
                order_by=[col(RefundRequest.id).desc()]
            )
            return [refund_view(row) for row in rows]

    async def request(self, reason: str, actor: str) -> RefundRequestView:
        """Ask for the plan's money back; refused (403) outside the policy, 409 when this
        subscription's refund was already asked for."""
        now = utcnow()
        async with client_transaction(self.sessions, self.scope) as session:
            # The client row stays locked to the end: two requests at once cannot both pass.
            facts = await EntitlementRepository(session, self.scope).facts(lock=True)
            subscription = await SubscriptionRepository(session, self.scope).own()
            plan, window = facts.spec.name.value, facts.spec.refund_window_days
            if window is None:
                raise PlanLimitError(f"the {plan} plan has no money-back refund")
            if not facts.paid or subscription is None or not subscription.stripe_subscription_id:
                raise PlanLimitError("there is no paid subscription to refund")
            if subscription.subscription_created:  # 0: Stripe has not told us yet, so recent
                since = datetime.fromtimestamp(subscription.subscription_created, UTC)
                if now > since + timedelta(days=window):
                    raise PlanLimitError(
                        f"the {plan} plan refunds within {window} days of subscribing; this "
                        f"subscription started on {since:%Y-%m-%d}"
                    )
            refunds = RefundRepository(session, self.scope)
            if await refunds.of_subscription(subscription.stripe_subscription_id) is not None:
                raise ConflictError("a refund of this subscription was already requested")
            row = await refunds.add(
                RefundRequest(
                    client_id=self.scope.client_id,
                    plan=plan,
                    reason=reason,
                    status=REQUESTED,
                    subject=actor,
                    stripe_subscription_id=subscription.stripe_subscription_id,
                    requested_at=now,
                )
            )
            await AuditRepository(session, self.scope).record(
                actor, "refund_requested", f"refund {row.id}", {"plan": plan}
            )
            return refund_view(row)


class RefundDesk:
    """The operators' side: the requests waiting, and issuing one through Stripe."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        gateway: StripeGateway | None,
        actor: str,
    ) -> None:
        self.sessions = sessions
        self.gateway = gateway
        self.actor = actor

    async def pending(self) -> list[RefundRequestView]:
        async with transaction(self.sessions) as session:  # no tenant: every client's rows
            rows = await session.scalars(
                select(RefundRequest)
                .where(col(RefundRequest.status) == REQUESTED)
                .order_by(col(RefundRequest.id))
            )
            return [refund_view(row) for row in rows.all()]

    async def issue(self, request_id: int, amount_cents: int | None) -> RefundRequestView:
        """Refund the request's charge through Stripe, end the subscription, record both.
        A request already issued is returned as it is."""
        if self.gateway is None:
            raise BillingUnavailableError("billing is not configured on this server")
        scope, row, customer = await self._find(request_id)
        if row.status != REQUESTED:
            return refund_view(row)
        key = f"tradebot-refund-request-{request_id}"
        try:
            charge = await self._charge(scope, row, customer)
            if amount_cents is not None and amount_cents > charge.amount_cents:
                raise BadInputError(
                    f"amount_cents {amount_cents} is more than the charge ({charge.amount_cents})"
                )
            metadata = {"client_id": scope.client_id, "refund_request": str(request_id)}
            refund = await self.gateway.refund(charge.id, amount_cents, metadata, f"{key}-refund")
            if row.stripe_subscription_id:
                await self.gateway.cancel_subscription(row.stripe_subscription_id, f"{key}-cancel")
        except BillingUnavailableError as exc:
            await self._note_error(scope, request_id, str(exc))
            raise
        return await self._record(scope, request_id, refund.id, refund.amount_cents, customer)

    async def _find(self, request_id: int) -> tuple[ClientScope, RefundRequest, str]:
        async with transaction(self.sessions) as session:  # whose request it is
            found = await session.get(RefundRequest, request_id)
        if found is None:
            raise NotFoundError(f"refund request {request_id} not found")
        scope = ClientScope.of(found.client_id)
        async with client_transaction(self.sessions, scope) as session:
            row = await RefundRepository(session, scope).get(request_id)
            subscription = await SubscriptionRepository(session, scope).own()
        if subscription is None or not subscription.stripe_customer_id:
            raise ConflictError("the client has no Stripe customer: nothing to refund")
        return scope, row, subscription.stripe_customer_id

    async def _charge(self, scope: ClientScope, row: RefundRequest, customer: str) -> Charge:
        """The charge to refund: the one chosen at a first attempt, else the newest one
        (remembered now, so that a retry never moves on to an older charge)."""
        assert self.gateway is not None
        if row.stripe_charge_id:
            return await self.gateway.charge(row.stripe_charge_id)
        charge = await self.gateway.latest_charge(customer)
        if charge is None:
            raise ConflictError("the customer has no paid charge left to refund")
        async with client_transaction(self.sessions, scope) as session:
            locked = await RefundRepository(session, scope).locked(row.id or 0)
            if locked is not None and locked.stripe_charge_id is None:
                locked.stripe_charge_id, locked.currency = charge.id, charge.currency
        return charge

    async def _note_error(self, scope: ClientScope, request_id: int, error: str) -> None:
        async with client_transaction(self.sessions, scope) as session:
            row = await RefundRepository(session, scope).locked(request_id)
            if row is not None:
                row.last_error = error[:500]

    async def _record(
        self, scope: ClientScope, request_id: int, refund_id: str, amount: int, customer: str
    ) -> RefundRequestView:
        now = utcnow()
        async with client_transaction(self.sessions, scope) as session:
            row = await RefundRepository(session, scope).locked(request_id)
            client = await ClientRepository(session, scope).find(scope.client_id)
            if row is None or client is None:
                raise NotFoundError(f"refund request {request_id} not found")
            if row.status != REQUESTED:  # issued meanwhile by a concurrent call: same refund
                return refund_view(row)
            row.status, row.stripe_refund_id, row.amount_cents = ISSUED, refund_id, amount
            row.issued_by, row.issued_at, row.last_error = self.actor, now, None
            ended = SubscriptionUpdate(
                int(now.timestamp()), customer, row.stripe_subscription_id, CANCELED, None
            )
            cause = {"refund": refund_id}
            await apply_update(session, scope, client, ended, self.actor, cause)
            await AuditRepository(session, scope).record(
                self.actor, "refund_issued", f"refund {request_id}", {"amount_cents": amount}
            )
            await session.flush()
            return refund_view(row)
