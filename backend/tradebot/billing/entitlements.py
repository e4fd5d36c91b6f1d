"""What a client may do now, decided from facts gathered in its tenant transaction.

Pure functions over ``AccountFacts``: the services gather the facts (``EntitlementRepository``)
and call these before they write, in the same transaction. The repository reads the client row
``FOR UPDATE``, so two concurrent requests of one client are serialised and cannot both take
the last free slot of a limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tradebot.billing.errors import PaymentRequiredError, PlanLimitError
from tradebot.clients.plans import (
    ACTIVE_SUBSCRIPTION,
    PAID_PLANS,
    PAPER_BEFORE_LIVE,
    TRIAL_LENGTH,
    PlanName,
    PlanSpec,
    plan_spec,
)


@dataclass(frozen=True)
class AccountFacts:
    client_id: str
    plan: str
    client_status: str
    client_created: datetime
    subscription_status: str | None
    first_paper_run: datetime | None
    bots: int
    running_bots: int
    exchanges: frozenset[str]

    @property
    def spec(self) -> PlanSpec:
        return plan_spec(self.plan)

    @property
    def paid(self) -> bool:
        return self.spec.name in PAID_PLANS and self.subscription_status in ACTIVE_SUBSCRIPTION

    def trial_ends(self) -> datetime:
        return self.client_created + TRIAL_LENGTH

    def live_from(self) -> datetime | None:
        """When 7 days of paper trading will have passed (``None``: no paper run yet)."""
        return None if self.first_paper_run is None else self.first_paper_run + PAPER_BEFORE_LIVE


def require_usable(facts: AccountFacts, now: datetime) -> None:
    """An active client on a paid plan, or within its trial."""
    if facts.client_status != "active":
        raise PlanLimitError(f"client {facts.client_id!r} is {facts.client_status}")
    if facts.paid or facts.spec.name is PlanName.MANAGED:
        return
    if facts.spec.name is PlanName.TRIAL and now < facts.trial_ends():
        return
    if facts.spec.name is PlanName.TRIAL:
        raise PaymentRequiredError(
            f"the trial ended on {facts.trial_ends():%Y-%m-%d}: choose a plan to keep trading"
        )
    raise PaymentRequiredError(
        f"the {facts.spec.name.value} subscription is {facts.subscription_status or 'missing'}: "
        "update the payment method in the billing portal"
    )


def require_new_bot(facts: AccountFacts, now: datetime) -> None:
    require_usable(facts, now)
    if facts.bots >= facts.spec.max_bots:
        raise PlanLimitError(
            f"the {facts.spec.name.value} plan allows {facts.spec.max_bots} bots "
            f"(you have {facts.bots})"
        )


def require_exchange(facts: AccountFacts, exchange: str, now: datetime) -> None:
    """Storing keys of ``exchange`` stays within the plan's number of exchanges."""
    require_usable(facts, now)
    if exchange in facts.exchanges:
        return
    if len(facts.exchanges) >= facts.spec.max_exchanges:
        raise PlanLimitError(
            f"the {facts.spec.name.value} plan allows {facts.spec.max_exchanges} exchange(s) "
            f"(you use {', '.join(sorted(facts.exchanges))})"
        )


def require_run_start(facts: AccountFacts, live: bool, now: datetime) -> None:
    """Room for one more running bot; live needs a paid plan and 7 days of paper first."""
    require_usable(facts, now)
    if facts.running_bots >= facts.spec.max_running_bots:
        raise PlanLimitError(
            f"the {facts.spec.name.value} plan allows {facts.spec.max_running_bots} running "
            f"bot(s): stop one first"
        )
    if not live:
        return
    if not (facts.spec.live_trading and (facts.paid or facts.spec.name is PlanName.MANAGED)):
        raise PaymentRequiredError("live trading needs an active paid plan (Starter or above)")
    ready = facts.live_from()
    if ready is None or now < ready:
        when = "after a first paper run" if ready is None else f"from {ready:%Y-%m-%d %H:%M} UTC"
        raise PlanLimitError(f"live trading opens after 7 days of paper trading: {when}")


def require_exports(facts: AccountFacts) -> None:
    if not facts.spec.backtest_exports:
        raise PaymentRequiredError(
            f"backtest exports are not in the {facts.spec.name.value} plan (Pro and above)"
        )
