"""The plans we sell and what each includes. The server enforces these; the portal only shows them.

Trial: paper trading only, for 14 days from the client's creation. Starter ($49/month): one
exchange, one running bot, 30 days money back. Pro ($199/month): several exchanges and bots,
backtest exports, alerts, 14 days money back. Managed: priced per contract (refunds by
contract), limits sized for a desk.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Final


class PlanName(StrEnum):
    TRIAL = "trial"
    STARTER = "starter"
    PRO = "pro"
    MANAGED = "managed"


@dataclass(frozen=True)
class PlanSpec:
    name: PlanName
    price_usd_month: int | None
    """``None``: priced per contract (not sold through Checkout)."""
    live_trading: bool
    max_exchanges: int
    max_bots: int
    max_running_bots: int
    backtest_exports: bool
    alerts: bool
    refund_window_days: int | None = None
    """Money back on request within this many days of subscribing (``None``: no refunds by
    policy; an operator may still refund). A money-back refund ends the subscription."""
    dex_checks: bool = False
    """DEX sell checks (``POST /dex/check-sell``): the server simulates trades on a node."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


PLANS: Final[dict[PlanName, PlanSpec]] = {
    PlanName.TRIAL: PlanSpec(PlanName.TRIAL, 0, False, 1, 3, 1, False, False),
    PlanName.STARTER: PlanSpec(PlanName.STARTER, 49, True, 1, 3, 1, False, False, 30),
    PlanName.PRO: PlanSpec(PlanName.PRO, 199, True, 5, 50, 10, True, True, 14, dex_checks=True),
    PlanName.MANAGED: PlanSpec(
        PlanName.MANAGED, None, True, 20, 500, 100, True, True, dex_checks=True
    ),
}
PAID_PLANS: Final = frozenset({PlanName.STARTER, PlanName.PRO, PlanName.MANAGED})
CHECKOUT_PLANS: Final = frozenset({PlanName.STARTER, PlanName.PRO})
TRIAL_LENGTH: Final = timedelta(days=14)
PAPER_BEFORE_LIVE: Final = timedelta(days=7)
"""Live trading needs this much paper trading history on the client first."""
ACTIVE_SUBSCRIPTION: Final = frozenset({"active", "trialing"})
"""Stripe subscription statuses that count as paid up (``past_due`` does not)."""


def plan_spec(name: str) -> PlanSpec:
    """The plan called ``name``; a name we do not sell (an old one) gets the Trial's limits."""
    try:
        return PLANS[PlanName(name)]
    except ValueError:
        return PLANS[PlanName.TRIAL]
