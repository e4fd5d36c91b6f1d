"""Bodies of the billing routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class PlanView(BaseModel):
    name: str
    price_usd_month: int | None
    live_trading: bool
    max_exchanges: int
    max_bots: int
    max_running_bots: int
    backtest_exports: bool
    alerts: bool


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
