"""Response body of the onboarding state."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class OnboardingState(BaseModel):
    plan: str
    paid: bool
    """A paid plan with its subscription active (or a managed contract)."""
    has_keys: bool
    """Exchange keys are stored (checked against the exchange or not)."""
    keys_verified: bool
    """Some stored key was checked against the exchange: trade-only (live runs need one)."""
    bots: int
    paper_runs: int
    first_paper_started_at: datetime | None
    paper_days_done: int
    paper_days_required: int
    live_from: datetime | None
    """When the paper days will have passed (``None``: no paper run yet)."""
    live_allowed: bool
    """A live run may be requested now (nothing is ``missing``)."""
    missing: list[str]
    """What is still to do before live trading can be requested, in order, in words."""
