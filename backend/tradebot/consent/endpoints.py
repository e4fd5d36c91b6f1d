"""Routes of risk consent: what the portal shows before live trading, and the acceptance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from tradebot.auth.dependencies import CurrentClient
from tradebot.consent.schemas import ConsentAccept, ConsentState
from tradebot.consent.service import ConsentService
from tradebot.kit.web import ContextDep

router = APIRouter(prefix="/consent", tags=["consent"])


# ``async def``: a plain ``def`` dependency would run in a worker thread (see ``kit.web``).
async def _consent(context: ContextDep, user: CurrentClient) -> ConsentService:
    return ConsentService(context.sessions, user.scope(), user.actor, user.subject)


Consent = Annotated[ConsentService, Depends(_consent)]


@router.get("")
async def consent_state(service: Consent) -> ConsentState:
    """The current risk disclosure and terms (Markdown), which of them this client accepted,
    and whether live trading may start."""
    return await service.state()


@router.post("")
async def accept_consent(body: ConsentAccept, request: Request, service: Consent) -> ConsentState:
    """Accept the given versions (``risk-v1``), recorded with the user, time and address.
    A version that is no longer current is a 409: show the new text and ask again."""
    address = request.client.host if request.client else "unknown"
    return await service.accept(body, address)
