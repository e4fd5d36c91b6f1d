"""Routes of notifications: what the portal needs to link a Telegram chat."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from tradebot.auth.dependencies import CurrentClient
from tradebot.kit.web import ContextDep
from tradebot.notifications.schemas import TelegramLinkCode
from tradebot.notifications.service import TelegramLinkService
from tradebot.notifications.telegram import TelegramLinks

router = APIRouter(prefix="/notifications", tags=["notifications"])


# ``async def``: a plain ``def`` dependency would run in a worker thread (see ``kit.web``).
async def _telegram(context: ContextDep, user: CurrentClient) -> TelegramLinkService:
    links = TelegramLinks(context.redis, context.settings)
    return TelegramLinkService(context.sessions, user.scope(), user.actor, user.subject, links)


Telegram = Annotated[TelegramLinkService, Depends(_telegram)]


@router.post("/telegram/link-code", status_code=status.HTTP_201_CREATED)
async def telegram_link_code(service: Telegram) -> TelegramLinkCode:
    """A one-time code (valid for ``expires_in_s``) that links a Telegram chat to this client
    when sent to the bot as ``/start <code>``. Pro plan and above (403 plan-limit otherwise)."""
    return await service.link_code()
