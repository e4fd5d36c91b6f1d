"""Storing a new subscription state and the plan it entitles the client to, audited once.

Shared by Stripe's subscription events and by a money-back refund (which ends the
subscription): the client's plan changes, with one ``plan_changed`` audit entry, only when the
entitled plan differs from the one it holds, so a replay or a later event saying the same
thing changes nothing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tradebot.billing.events import SubscriptionUpdate, entitled_plan, merge
from tradebot.billing.repository import SubscriptionRepository
from tradebot.clients.repository import AuditRepository
from tradebot.kit.clock import utcnow
from tradebot.kit.scope import ClientScope
from tradebot.models.clients import Client


async def apply_update(
    session: AsyncSession,
    scope: ClientScope,
    client: Client,
    update: SubscriptionUpdate,
    actor: str,
    cause: dict[str, str],
) -> bool:
    """Merge ``update`` into the client's subscription; ``False`` when it is stale.
    ``cause`` (the event or refund behind it) goes into the audit entry of a plan change."""
    subscriptions = SubscriptionRepository(session, scope)
    merged = merge(await subscriptions.own(), update, scope.client_id)
    if merged is None:
        return False
    merged.updated_at = utcnow()
    await subscriptions.add(merged)
    plan = entitled_plan(merged)
    if client.plan != plan.value:
        await AuditRepository(session, scope).record(
            actor,
            "plan_changed",
            target=f"client {client.id}",
            details={"from": client.plan, "to": plan.value, **cause},
        )
        client.plan, client.updated_at = plan.value, utcnow()
    return True
