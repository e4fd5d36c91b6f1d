"""A client's subscription as Stripe last told it, and the Stripe events already handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from tradebot.kit.clock import utcnow


class ClientSubscription(SQLModel, table=True):
    """The newest subscription state seen for a client.

    ``state_ts`` is the ``created`` time (s) of the Stripe event that set the state and
    ``subscription_created`` the subscription's own ``created``: an event older than either
    never overwrites what a newer one said (Stripe delivers out of order and more than once).
    """

    __tablename__ = "client_subscriptions"

    client_id: str = Field(primary_key=True, foreign_key="clients.id", max_length=64)
    stripe_customer_id: str | None = Field(default=None, max_length=64)
    stripe_subscription_id: str | None = Field(default=None, max_length=64)
    plan: str = Field(max_length=32)
    status: str = Field(max_length=32)
    subscription_created: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    state_ts: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    current_period_end: int | None = Field(default=None, sa_column=Column(BigInteger))
    updated_at: datetime = Field(default_factory=utcnow)


class StripeEvent(SQLModel, table=True):
    """A Stripe event id handled once: stored in the transaction that applied it."""

    __tablename__ = "stripe_events"
    __table_args__ = (Index("ix_stripe_events_type_received", "type", "received_at"),)

    id: str = Field(primary_key=True, max_length=255)
    client_id: str | None = Field(default=None, foreign_key="clients.id", max_length=64)
    type: str = Field(max_length=64)
    created: int = Field(sa_column=Column(BigInteger, nullable=False))
    outcome: str = Field(max_length=64)
    """``applied``, ``stale`` (older than the state), or ``ignored`` (not ours / not handled)."""
    received_at: datetime = Field(default_factory=utcnow)
