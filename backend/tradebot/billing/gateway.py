"""Stripe at the wire: Checkout and Customer Portal sessions, refunds, and webhook signatures.

This module and ``billing`` alone import ``stripe``. API calls go through ``StripeClient`` (its
base URL comes from ``STRIPE_API_BASE`` when set, so tests talk to a local stand-in); webhook
payloads are verified by ``stripe.WebhookSignature`` on the raw request bytes *before* they are
parsed, with a 300 s tolerance: a body re-serialised by anyone (a proxy, a framework) fails.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import stripe

from tradebot.billing.errors import BillingUnavailableError, WebhookSignatureError
from tradebot.clients.plans import CHECKOUT_PLANS, PlanName
from tradebot.config import Settings
from tradebot.errors import BadInputError

TOLERANCE_S: Final = 300
T = TypeVar("T")


@dataclass(frozen=True)
class Charge:
    """A payment at Stripe, as far as a refund needs it."""

    id: str
    customer: str | None
    amount_cents: int
    currency: str


@dataclass(frozen=True)
class Refund:
    id: str
    charge: str
    amount_cents: int
    currency: str
    status: str


class WebhookVerifier:
    def __init__(self, secret: str) -> None:
        self._secret = secret

    def event(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event of a correctly signed, recent payload; anything else is refused."""
        try:
            stripe.WebhookSignature.verify_header(
                payload, signature, self._secret, tolerance=TOLERANCE_S
            )
        except (stripe.SignatureVerificationError, ValueError, IndexError):
            raise WebhookSignatureError("Stripe-Signature does not match the payload") from None
        try:
            event = json.loads(payload)
        except ValueError:
            raise WebhookSignatureError("signed payload is not JSON") from None
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            raise BadInputError("not a Stripe event")
        return event


async def _call(what: str, request: Awaitable[T]) -> T:
    """Await a Stripe API call; Stripe's refusal or absence is ``BillingUnavailableError``."""
    try:
        return await request
    except stripe.StripeError as exc:
        reason = exc.user_message or type(exc).__name__
        raise BillingUnavailableError(f"Stripe refused the {what}: {reason}") from None


class StripeGateway:
    """Creates the sessions that send a customer to Stripe's hosted pages."""

    def __init__(self, settings: Settings) -> None:
        assert settings.STRIPE_SECRET_KEY is not None
        base = {"api": settings.STRIPE_API_BASE.rstrip("/")} if settings.STRIPE_API_BASE else None
        self._client = stripe.StripeClient(
            settings.STRIPE_SECRET_KEY.get_secret_value(),
            base_addresses=base,  # type: ignore[arg-type]
            http_client=stripe.HTTPXClient(),
            max_network_retries=2,
        )
        self._prices = {
            PlanName.STARTER: settings.STRIPE_PRICE_STARTER,
            PlanName.PRO: settings.STRIPE_PRICE_PRO,
            PlanName.MANAGED: settings.STRIPE_PRICE_MANAGED,
        }
        self._app_url = settings.PUBLIC_APP_URL.rstrip("/")

    def plan_of_price(self, price_id: str | None) -> PlanName | None:
        return next((plan for plan, price in self._prices.items() if price == price_id), None)

    async def checkout_url(
        self, client_id: str, plan: PlanName, customer_id: str | None, email: str
    ) -> str:
        price = self._prices.get(plan)
        if plan not in CHECKOUT_PLANS or not price:
            raise BadInputError(f"plan {plan.value!r} cannot be bought through Checkout")
        metadata = {"client_id": client_id, "plan": plan.value}
        params: dict[str, Any] = {
            "mode": "subscription",
            "line_items": [{"price": price, "quantity": 1}],
            "client_reference_id": client_id,
            "metadata": metadata,
            "subscription_data": {"metadata": metadata},
            "success_url": f"{self._app_url}/billing?checkout=success",
            "cancel_url": f"{self._app_url}/billing?checkout=cancelled",
        }
        if customer_id:
            params["customer"] = customer_id
        elif email:
            params["customer_email"] = email
        checkout = self._client.v1.checkout.sessions
        session = await _call("checkout", checkout.create_async(params=params))  # type: ignore[arg-type]
        return str(session.url)

    async def portal_url(self, customer_id: str) -> str:
        params = {"customer": customer_id, "return_url": f"{self._app_url}/billing"}
        portal = self._client.v1.billing_portal.sessions
        session = await _call("portal session", portal.create_async(params=params))  # type: ignore[arg-type]
        return str(session.url)

    async def latest_charge(self, customer_id: str) -> Charge | None:
        """The customer's newest paid charge not yet refunded in full (``None``: none)."""
        params = {"customer": customer_id, "limit": 10}
        charges = await _call("charge list", self._client.v1.charges.list_async(params=params))  # type: ignore[arg-type]
        for charge in charges.data:
            if charge.paid and not charge.refunded:
                return _charge(charge)
        return None

    async def charge(self, charge_id: str) -> Charge:
        return _charge(await _call("charge", self._client.v1.charges.retrieve_async(charge_id)))

    async def refund(
        self, charge_id: str, amount_cents: int | None, metadata: dict[str, str], key: str
    ) -> Refund:
        """Refund ``charge_id`` (all of it unless ``amount_cents``). ``key`` is Stripe's
        idempotency key: asking again with it returns the same refund, never a second one."""
        params: dict[str, Any] = {
            "charge": charge_id,
            "reason": "requested_by_customer",
            "metadata": metadata,
        }
        if amount_cents is not None:
            params["amount"] = amount_cents
        refunds = self._client.v1.refunds
        refund = await _call(
            "refund",
            refunds.create_async(params=params, options={"idempotency_key": key}),  # type: ignore[arg-type]
        )
        return Refund(
            str(refund.id),
            charge_id,
            int(refund.amount),
            str(refund.currency),
            str(refund.status),
        )

    async def cancel_subscription(self, subscription_id: str, key: str) -> None:
        """End the subscription now (no further invoices); idempotent under ``key``."""
        subscriptions = self._client.v1.subscriptions
        await _call(
            "cancellation",
            subscriptions.cancel_async(subscription_id, options={"idempotency_key": key}),
        )


def _charge(charge: stripe.Charge) -> Charge:
    customer = charge.customer
    if customer is not None and not isinstance(customer, str):  # expanded
        customer = str(customer.id)
    return Charge(str(charge.id), customer, int(charge.amount), str(charge.currency))
