"""Stripe's events about a client's charges: refunds confirmed and chargebacks (disputes).

Each function runs inside the tenant transaction that also stores the event's id, so a
redelivered event is a duplicate before it gets here. Beyond that, the state only moves
forward: a refund's amount only grows, and a dispute event older than the one that set the
stored state (Stripe delivers out of order) is ``stale``; a closed dispute stays closed.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from tradebot.billing.repository import DisputeRepository, RefundRepository
from tradebot.clients.repository import AuditRepository
from tradebot.kit.clock import utcnow
from tradebot.kit.scope import ClientScope
from tradebot.models.clients import Client
from tradebot.models.refunds import ChargeDispute, RefundRequest

REFUNDED: Final = "charge.refunded"
DISPUTE_EVENTS: Final = frozenset({"charge.dispute.created", "charge.dispute.closed"})
CHARGE_EVENTS: Final = frozenset({REFUNDED, *DISPUTE_EVENTS})
WEBHOOK_ACTOR: Final = "stripe:webhook"


def _text(value: Any, limit: int) -> str:
    return str(value or "")[:limit]


def _cents(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


async def apply_refunded(
    session: AsyncSession, scope: ClientScope, client: Client, charge: dict[str, Any]
) -> str:
    """``charge.refunded``: the refund of the charge is confirmed (the operator's, or one made
    in Stripe's dashboard, then recorded here for the first time)."""
    charge_id = _text(charge.get("id"), 64)
    amount = _cents(charge.get("amount_refunded"))
    refunds = RefundRepository(session, scope)
    audit = AuditRepository(session, scope)
    row = await refunds.of_charge(charge_id)
    if row is None:
        row = RefundRequest(
            client_id=scope.client_id,
            plan=client.plan,
            reason="refunded at Stripe",
            status="refunded",
            subject=WEBHOOK_ACTOR,
            stripe_charge_id=charge_id,
            amount_cents=amount,
            currency=_text(charge.get("currency"), 8),
            refunded_at=utcnow(),
        )
        await refunds.add(row)
    elif row.status == "refunded" and (row.amount_cents or 0) >= amount:
        return "stale"
    else:
        row.status = "refunded"
        row.amount_cents = max(row.amount_cents or 0, amount)
        row.refunded_at = row.refunded_at or utcnow()
        await session.flush()
    details = {"charge": charge_id, "amount_cents": amount}
    await audit.record(WEBHOOK_ACTOR, "refund_confirmed", f"refund {row.id}", details)
    return "applied"


async def apply_dispute(
    session: AsyncSession, scope: ClientScope, kind: str, created: int, dispute: dict[str, Any]
) -> str:
    """``charge.dispute.created`` / ``closed``: the chargeback as Stripe last told it."""
    disputes = DisputeRepository(session, scope)
    dispute_id = _text(dispute.get("id"), 64)
    closing = kind == "charge.dispute.closed"
    status = _text(dispute.get("status"), 32) or ("closed" if closing else "needs_response")
    row = await disputes.find(dispute_id)
    if row is None:
        row = ChargeDispute(
            id=dispute_id,
            client_id=scope.client_id,
            stripe_charge_id=_text(dispute.get("charge"), 64),
            amount_cents=_cents(dispute.get("amount")),
            currency=_text(dispute.get("currency"), 8),
            reason=_text(dispute.get("reason"), 64),
            status=status,
            state_ts=created,
            closed_at=utcnow() if closing else None,
        )
        await disputes.add(row)
    elif created < row.state_ts or (row.closed_at is not None and not closing):
        return "stale"
    else:
        row.status, row.state_ts = status, created
        if closing:
            row.closed_at = row.closed_at or utcnow()
        await session.flush()
    action = "dispute_closed" if closing else "dispute_opened"
    details = {"charge": row.stripe_charge_id, "status": status, "amount_cents": row.amount_cents}
    await AuditRepository(session, scope).record(
        WEBHOOK_ACTOR, action, f"dispute {dispute_id}", details
    )
    return "applied"
