"""Stripe events as subscription updates, and the rule that keeps the newest state.

Stripe delivers events at least once and in no particular order. Each update carries the
event's ``created`` time (and, for subscription events, the subscription's own ``created``);
``merge`` applies an update only if it is not older than what is stored:

- an event older than the one that set the stored state is *stale* (kept, not applied);
- an event about an older subscription than the stored one is stale (a re-subscription wins);
- ``canceled`` is terminal for a subscription id: nothing about that subscription revives it
  (a late ``invoice.paid`` or ``updated`` after ``deleted``), even within the same second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from tradebot.clients.plans import PlanName
from tradebot.models.billing import ClientSubscription

HANDLED: Final = frozenset(
    {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.paid",
        "invoice.payment_failed",
    }
)
CANCELED: Final = "canceled"
ENDED: Final = frozenset({CANCELED, "incomplete_expired"})


@dataclass(frozen=True)
class SubscriptionUpdate:
    event_created: int
    customer_id: str | None
    subscription_id: str | None
    status: str | None
    """``None``: the event says nothing about the status (only links ids)."""
    plan: PlanName | None
    subscription_created: int = 0
    current_period_end: int | None = None


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _str(value: Any) -> str | None:
    if isinstance(value, dict):  # an expanded object
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _plan(value: Any) -> PlanName | None:
    try:
        return PlanName(value) if isinstance(value, str) else None
    except ValueError:
        return None


def client_of(event: dict[str, Any]) -> str | None:
    """The client an event is about: we put its id in the Checkout and subscription metadata."""
    obj = _get(event, "data", "object")
    candidates = (
        _get(obj, "client_reference_id"),
        _get(obj, "metadata", "client_id"),
        _get(obj, "parent", "subscription_details", "metadata", "client_id"),
        _get(obj, "subscription_details", "metadata", "client_id"),
    )
    return next((c for c in candidates if isinstance(c, str) and c), None)


def update_of(
    event: dict[str, Any], plan_of_price: Callable[[str | None], PlanName | None]
) -> SubscriptionUpdate | None:
    """What a handled event says about the subscription (``None`` for other events)."""
    kind, obj = event.get("type"), _get(event, "data", "object")
    created = int(event.get("created") or 0)
    if kind not in HANDLED or not isinstance(obj, dict):
        return None
    customer = _str(obj.get("customer"))
    if kind == "checkout.session.completed":
        paid = obj.get("payment_status") in ("paid", "no_payment_required")
        return SubscriptionUpdate(
            created,
            customer,
            _str(obj.get("subscription")),
            "active" if paid else "incomplete",
            _plan(_get(obj, "metadata", "plan")),
        )
    if kind.startswith("customer.subscription."):
        item = (_get(obj, "items", "data") or [{}])[0]
        price = _str(_get(item, "price"))
        status = CANCELED if kind.endswith(".deleted") else _str(obj.get("status"))
        period_end = obj.get("current_period_end") or _get(item, "current_period_end")
        return SubscriptionUpdate(
            created,
            customer,
            _str(obj.get("id")),
            status,
            plan_of_price(price) or _plan(_get(obj, "metadata", "plan")),
            int(obj.get("created") or 0),
            int(period_end) if isinstance(period_end, int) else None,
        )
    subscription = _str(obj.get("subscription")) or _str(
        _get(obj, "parent", "subscription_details", "subscription")
    )
    status = "active" if kind == "invoice.paid" else "past_due"
    return SubscriptionUpdate(created, customer, subscription, status, None)


def is_stale(current: ClientSubscription | None, update: SubscriptionUpdate) -> bool:
    if current is None:
        return False
    same = update.subscription_id is None or update.subscription_id == (
        current.stripe_subscription_id or update.subscription_id
    )
    if not same:
        if update.subscription_created and current.subscription_created:
            return update.subscription_created < current.subscription_created
        return update.event_created < current.state_ts
    if current.status in ENDED and update.status not in (None, *ENDED):
        return True
    return update.event_created < current.state_ts


def merge(
    current: ClientSubscription | None, update: SubscriptionUpdate, client_id: str
) -> ClientSubscription | None:
    """The new stored state, or ``None`` when the update is stale."""
    if is_stale(current, update):
        return None
    row = current or ClientSubscription(
        client_id=client_id, plan=PlanName.TRIAL.value, status="incomplete"
    )
    switched = update.subscription_id and update.subscription_id != row.stripe_subscription_id
    row.stripe_customer_id = update.customer_id or row.stripe_customer_id
    row.stripe_subscription_id = update.subscription_id or row.stripe_subscription_id
    if update.status is not None:
        row.status = update.status
    if update.plan is not None:
        row.plan = update.plan.value
    if update.subscription_created or switched:
        row.subscription_created = max(update.subscription_created, 0)
    if update.current_period_end is not None:
        row.current_period_end = update.current_period_end
    row.state_ts = max(row.state_ts, update.event_created)
    return row


def entitled_plan(row: ClientSubscription) -> PlanName:
    """The plan the client holds after this state (an ended subscription falls back to Trial)."""
    if row.status in ENDED or row.status == "incomplete":
        return PlanName.TRIAL
    return _plan(row.plan) or PlanName.TRIAL
