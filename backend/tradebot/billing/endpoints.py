"""``/billing`` (the client's plan, Checkout and Portal, refunds) and ``/webhooks/stripe``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, status

from tradebot.auth.dependencies import CurrentClient, CurrentOperator
from tradebot.billing.gateway import StripeGateway, WebhookVerifier
from tradebot.billing.refunds import RefundDesk, RefundService
from tradebot.billing.schemas import (
    BillingView,
    CheckoutRequest,
    PlanView,
    RedirectView,
    RefundIssueInput,
    RefundRequestInput,
    RefundRequestView,
    WebhookReceipt,
)
from tradebot.billing.service import BillingService, StripeWebhooks
from tradebot.clients.plans import PLANS
from tradebot.kit.web import ContextDep, app_port

router = APIRouter(prefix="/billing", tags=["billing"])
webhooks = APIRouter(prefix="/webhooks", tags=["webhooks"])


async def _stripe(request: Request) -> StripeGateway | None:
    """``None`` when STRIPE_SECRET_KEY is unset: checkout and portal answer 503."""
    gateway: StripeGateway | None = app_port(request, "stripe")
    return gateway


async def _verifier(request: Request) -> WebhookVerifier | None:
    """``None`` when STRIPE_WEBHOOK_SECRET is unset: the webhook answers 503."""
    verifier: WebhookVerifier | None = app_port(request, "stripe_webhooks")
    return verifier


Stripe = Annotated[StripeGateway | None, Depends(_stripe)]


async def _billing(context: ContextDep, user: CurrentClient, stripe: Stripe) -> BillingService:
    return BillingService(context.sessions, user.scope(), stripe)


async def _webhooks(
    context: ContextDep,
    stripe: Stripe,
    verifier: Annotated[WebhookVerifier | None, Depends(_verifier)],
) -> StripeWebhooks:
    return StripeWebhooks(context.sessions, verifier, stripe)


async def _refunds(context: ContextDep, user: CurrentClient) -> RefundService:
    return RefundService(context.sessions, user.scope())


async def _desk(context: ContextDep, stripe: Stripe, operator: CurrentOperator) -> RefundDesk:
    return RefundDesk(context.sessions, stripe, operator.actor)


Billing = Annotated[BillingService, Depends(_billing)]
Webhooks = Annotated[StripeWebhooks, Depends(_webhooks)]
Refunds = Annotated[RefundService, Depends(_refunds)]
Desk = Annotated[RefundDesk, Depends(_desk)]
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("")
async def get_billing(billing: Billing) -> BillingView:
    """The client's plan, subscription state and usage against the plan's limits."""
    return await billing.summary()


@router.get("/plans")
async def list_plans() -> list[PlanView]:
    return [PlanView.model_validate(spec.to_json()) for spec in PLANS.values()]


@router.post("/checkout")
async def create_checkout(
    body: CheckoutRequest, billing: Billing, user: CurrentClient
) -> RedirectView:
    """A Stripe Checkout session for a plan: redirect the browser to ``url``."""
    return RedirectView(url=await billing.checkout(body.plan, user.email))


@router.post("/portal")
async def create_portal(billing: Billing) -> RedirectView:
    """A Stripe Customer Portal session (payment method, invoices, cancellation)."""
    return RedirectView(url=await billing.portal())


@router.get("/refund-requests")
async def list_refund_requests(refunds: Refunds) -> list[RefundRequestView]:
    """The client's refund requests, newest first."""
    return await refunds.list()


@router.post("/refund-requests", status_code=status.HTTP_201_CREATED)
async def request_refund(
    body: RefundRequestInput, refunds: Refunds, user: CurrentClient
) -> RefundRequestView:
    """Ask for the plan's money back (``refund_window_days`` of the plan, once per
    subscription); an operator issues it. 403 outside the policy, 409 when already asked."""
    return await refunds.request(body.reason, user.actor)


@router.get("/refund-requests/pending", tags=["admin"])
async def pending_refund_requests(desk: Desk) -> list[RefundRequestView]:
    """Operators: every client's requests not yet issued, oldest first."""
    return await desk.pending()


@router.post("/refund-requests/{request_id}/refund", tags=["admin"])
async def issue_refund(
    request_id: RequestId, desk: Desk, body: RefundIssueInput | None = None
) -> RefundRequestView:
    """Operators: refund the request's charge through Stripe (all of it without a body) and
    end the subscription. Repeating it returns the same refund; 503 when Stripe refuses."""
    return await desk.issue(request_id, body.amount_cents if body else None)


@webhooks.post("/stripe")
async def stripe_webhook(
    request: Request,
    hooks: Webhooks,
    stripe_signature: Annotated[str | None, Header()] = None,
) -> WebhookReceipt:
    """Stripe's events; the signature is checked on the raw body before anything is parsed."""
    outcome = await hooks.receive(await request.body(), stripe_signature)
    return WebhookReceipt(received=True, outcome=outcome)
