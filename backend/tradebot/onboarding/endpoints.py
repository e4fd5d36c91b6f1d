"""Route of the onboarding checklist: parse, authorise, call one service method."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from tradebot.auth.dependencies import CurrentClient
from tradebot.kit.web import ContextDep
from tradebot.onboarding.schemas import OnboardingState
from tradebot.onboarding.service import OnboardingService

router = APIRouter(prefix="/onboarding", tags=["onboarding"])


@router.get("")
async def get_onboarding(context: ContextDep, user: CurrentClient) -> OnboardingState:
    """Where the client stands on the way to live trading, and what is still missing."""
    service = OnboardingService(context.sessions, user.scope(), user.actor)
    return await service.state(datetime.now(UTC))
