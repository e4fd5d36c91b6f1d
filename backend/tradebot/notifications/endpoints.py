"""Routes of notifications: what the portal needs to link a Telegram chat."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from tradebot.auth.dependencies import CurrentClient
from tradebot.kit.web import ContextDep
from tradebot.notifications.preferences import PreferenceService
from tradebot.notifications.schemas import PreferencesUpdate, PreferencesView, TelegramLinkCode
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


async def _preferences(context: ContextDep, user: CurrentClient) -> PreferenceService:
    return PreferenceService(context.sessions, user.scope(), user.actor)


Preferences = Annotated[PreferenceService, Depends(_preferences)]


@router.get("/preferences")
async def get_preferences(service: Preferences) -> PreferencesView:
    """The client's notification choices and the channels its plan includes."""
    return await service.get()


@router.put("/preferences")
async def put_preferences(body: PreferencesUpdate, service: Preferences) -> PreferencesView:
    """Choose channels, fill alerts and quiet hours (UTC). A channel the plan does not include
    is a 403 plan-limit: the daily email from Starter, Telegram from Pro."""
    return await service.update(body)
