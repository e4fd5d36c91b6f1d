"""The onboarding checklist: from the billing facts the entitlement checks use (the same rules
decide ``live_allowed`` and what a live start would refuse) and the client's own rows.

Steps before live trading, in the order a new client takes them: an active account, a paid
plan with a live subscription, trade-only keys checked against the exchange, a bot, a first
paper run, then the paper days.
"""

from __future__ import annotations

import math
from datetime import datetime

from tradebot.billing.entitlements import AccountFacts
from tradebot.billing.repository import EntitlementRepository
from tradebot.clients.plans import PAPER_BEFORE_LIVE, PlanName
from tradebot.consent.service import missing_consent
from tradebot.kit.service import ClientService
from tradebot.models.credentials import CredentialStatus
from tradebot.onboarding.repository import KeyStatusRepository, PaperRunRepository
from tradebot.onboarding.schemas import OnboardingState

PAPER_DAYS = math.ceil(PAPER_BEFORE_LIVE.total_seconds() / 86_400)


def paper_days_done(facts: AccountFacts, now: datetime) -> int:
    """Whole days of paper trading since the first paper run, at most the days required."""
    if facts.first_paper_run is None:
        return 0
    return min(PAPER_DAYS, max(0, (now - facts.first_paper_run).days))


def missing_steps(facts: AccountFacts, key_statuses: list[str], now: datetime) -> list[str]:
    """What stands between the client and a live run, in words, in the order to do it."""
    missing: list[str] = []
    spec = facts.spec
    if facts.client_status != "active":
        missing.append(f"Your account is {facts.client_status}: contact support to reopen it")
    if not spec.live_trading:
        missing.append("Choose a paid plan (Starter or above): the trial trades on paper only")
    elif not (facts.paid or spec.name is PlanName.MANAGED):
        status = facts.subscription_status or "missing"
        missing.append(
            f"Your {spec.name.value} subscription is {status}: "
            "update the payment method in the billing portal"
        )
    if not key_statuses:
        missing.append("Store trade-only exchange keys (trading on, withdrawals off)")
    elif CredentialStatus.ACTIVE.value not in key_statuses:
        missing.append(
            "Store your exchange keys again so the exchange can confirm they are trade-only"
        )
    if facts.bots == 0:
        missing.append("Create a first bot")
    ready = facts.live_from()
    if ready is None:
        missing.append(f"Start a first paper run: live opens after {PAPER_DAYS} days of paper")
    elif now < ready:
        days_left = PAPER_DAYS - paper_days_done(facts, now)
        missing.append(
            f"Keep paper trading {days_left} more day{'s' if days_left != 1 else ''}: "
            f"live opens on {ready:%Y-%m-%d %H:%M} UTC"
        )
    return missing


class OnboardingService(ClientService):
    async def state(self, now: datetime) -> OnboardingState:
        async with self.tx() as session:
            facts = await EntitlementRepository(session, self.scope).facts()
            keys = await KeyStatusRepository(session, self.scope).statuses()
            paper_runs = await PaperRunRepository(session, self.scope).count()
            unaccepted = await missing_consent(session, self.scope)
        missing = missing_steps(facts, keys, now)
        if unaccepted:
            # Last: a live start checks it after the plan, the keys and the paper days.
            missing.append("Read and accept the risk disclosure and the terms of live trading")
        return OnboardingState(
            plan=facts.spec.name.value,
            paid=facts.paid,
            has_keys=bool(keys),
            keys_verified=CredentialStatus.ACTIVE.value in keys,
            bots=facts.bots,
            paper_runs=paper_runs,
            first_paper_started_at=facts.first_paper_run,
            paper_days_done=paper_days_done(facts, now),
            paper_days_required=PAPER_DAYS,
            live_from=facts.live_from(),
            live_allowed=not missing,
            missing=missing,
        )
