"""Which channels a plan includes: the daily email from Starter, Telegram from Pro."""

from __future__ import annotations

from tradebot.clients.plans import PAID_PLANS, PlanName, plan_spec

EMAIL_PLANS = frozenset(PAID_PLANS)
"""Plans whose clients get the daily email (Starter and above; not the trial)."""


def email_included(plan: str) -> bool:
    try:
        return PlanName(plan) in EMAIL_PLANS
    except ValueError:
        return False


def telegram_included(plan: str) -> bool:
    return plan_spec(plan).alerts
