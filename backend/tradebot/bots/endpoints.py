"""Routes of bots: parse, authorise, call one service method."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from tradebot.auth.dependencies import CurrentClient
from tradebot.bots.schemas import BotCreate, BotCreated, BotUpdate, BotView, PlanPreview
from tradebot.bots.service import BotService, preview
from tradebot.kit.web import ContextDep, RowId

bots = APIRouter(prefix="/bots", tags=["bots"])


# ``async def``: a plain ``def`` dependency would run in a worker thread (see ``kit.web``).
async def _bots(context: ContextDep, user: CurrentClient) -> BotService:
    return BotService(context.sessions, user.scope(), user.actor)


Bots = Annotated[BotService, Depends(_bots)]


@bots.post("/preview")
async def preview_plan(body: BotCreate, _user: CurrentClient) -> PlanPreview:
    """The plan summary of a grid, validated against the pair's rules; nothing is saved."""
    return preview(body)


@bots.post("", status_code=status.HTTP_201_CREATED)
async def create_bot(body: BotCreate, service: Bots) -> BotCreated:
    return await service.create(body)


@bots.get("")
async def list_bots(service: Bots) -> list[BotView]:
    return list(await service.list())


@bots.get("/{bot_id}")
async def get_bot(bot_id: RowId, service: Bots) -> BotCreated:
    return await service.get(bot_id)


@bots.patch("/{bot_id}")
async def update_bot(bot_id: RowId, body: BotUpdate, service: Bots) -> BotCreated:
    """Rename a bot or give it a new grid (validated as on create; the plan is recomputed).
    While a run of the bot is active only the name may change (409 otherwise)."""
    return await service.update(bot_id, body)


@bots.delete("/{bot_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_bot(bot_id: RowId, service: Bots) -> Response:
    """Delete a bot and its finished backtests (409 while a run or backtest of it works);
    its past runs stay readable."""
    await service.delete(bot_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
