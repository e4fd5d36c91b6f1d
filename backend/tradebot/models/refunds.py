"""Tables of refunds and disputes: what a client asked back, what an operator refunded through
Stripe, what Stripe confirmed, and the chargebacks a client's bank opened."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from tradebot.kit.clock import utcnow


class RefundRequest(SQLModel, table=True):
    """One refund: asked by the client (``requested``), refunded through Stripe by an operator
    (``issued``), confirmed by Stripe's ``charge.refunded`` (``refunded``). A refund made in
    Stripe's dashboard arrives as ``refunded`` directly, asked by ``stripe:webhook``."""

    __tablename__ = "refund_requests"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(foreign_key="clients.id", max_length=64, index=True)
    plan: str = Field(max_length=32)
    """The plan whose refund policy the request was made under."""
    reason: str = Field(max_length=500)
    status: str = Field(max_length=16)
    subject: str = Field(max_length=255)
    """Who asked: the token subject of the user (or ``stripe:webhook``)."""
    stripe_subscription_id: str | None = Field(default=None, max_length=64)
    stripe_charge_id: str | None = Field(default=None, max_length=64)
    stripe_refund_id: str | None = Field(default=None, max_length=64)
    amount_cents: int | None = Field(default=None, sa_column=Column(BigInteger))
    currency: str | None = Field(default=None, max_length=8)
    issued_by: str | None = Field(default=None, max_length=255)
    last_error: str | None = Field(default=None, max_length=500)
    """Stripe's refusal at the last attempt to issue it (the request stays ``requested``)."""
    requested_at: datetime = Field(default_factory=utcnow)
    issued_at: datetime | None = None
    refunded_at: datetime | None = None


class ChargeDispute(SQLModel, table=True):
    """A chargeback on one of a client's charges, as Stripe last told it.

    ``state_ts`` is the ``created`` time (s) of the event that set the state: an older event
    (Stripe delivers out of order) never overwrites what a newer one said."""

    __tablename__ = "charge_disputes"

    id: str = Field(primary_key=True, max_length=64)
    """Stripe's dispute id (``dp_...``)."""
    client_id: str = Field(foreign_key="clients.id", max_length=64, index=True)
    stripe_charge_id: str = Field(max_length=64)
    amount_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=8)
    reason: str = Field(max_length=64)
    status: str = Field(max_length=32)
    state_ts: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    opened_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
