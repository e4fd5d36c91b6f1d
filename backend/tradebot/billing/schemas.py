"""Bodies of the billing routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradebot.kit.text import PlainText


class PlanView(BaseModel):
    name: str
    price_usd_month: int | None
    live_trading: bool
    max_exchanges: int
    max_bots: int
    max_running_bots: int
    backtest_exports: bool
    alerts: bool
    refund_window_days: int | None
    """Money back on request within this many days of subscribing (``None``: no refunds)."""


class BillingView(BaseModel):
    plan: PlanView
    subscription_status: str | None
    paid: bool
    trial_ends: datetime | None
    live_trading_from: datetime | None
    """When 7 days of paper trading are complete (``None`` before a first paper run)."""
    bots: int
    running_bots: int
    exchanges: list[str]


class CheckoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: Literal["starter", "pro"]


class RedirectView(BaseModel):
    url: str


class WebhookReceipt(BaseModel):
    received: bool
    outcome: str
    """``applied``, ``stale``, ``duplicate`` or ``ignored``."""


class RefundRequestInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[PlainText, Field(min_length=1, max_length=500)]


class RefundIssueInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_cents: Annotated[int, Field(gt=0, le=100_000_000)] | None = None
    """Refund this much of the charge (default: all of it)."""


class RefundRequestView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: str
    plan: str
    reason: str
    status: Literal["requested", "issued", "refunded"]
    """``requested`` by the client, ``issued`` through Stripe by an operator, ``refunded``
    once Stripe confirmed it (``charge.refunded``)."""
    amount_cents: int | None
    currency: str | None
    stripe_refund_id: str | None
    last_error: str | None
    requested_at: datetime
    issued_at: datetime | None
    refunded_at: datetime | None
