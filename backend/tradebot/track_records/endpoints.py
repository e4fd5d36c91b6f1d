"""Routes of public track records: the client's opt-in, and the public page (no login)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.responses import HTMLResponse

from tradebot.auth.dependencies import CurrentClient
from tradebot.kit.web import ContextDep, RowId
from tradebot.track_records.page import render_page
from tradebot.track_records.schemas import PublicTrackRecord, TrackRecordPublish, TrackRecordView
from tradebot.track_records.service import CACHE_TTL_S, TrackRecordService, public_record

router = APIRouter(prefix="/track-records", tags=["records"])
public = APIRouter(prefix="/public/track-records", tags=["records"])
CACHE_CONTROL = {"Cache-Control": f"public, max-age={int(CACHE_TTL_S)}"}


async def _records(context: ContextDep, user: CurrentClient) -> TrackRecordService:
    return TrackRecordService(context.sessions, user.scope(), user.actor)


Records = Annotated[TrackRecordService, Depends(_records)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def publish_track_record(body: TrackRecordPublish, service: Records) -> TrackRecordView:
    """Opt a bot in: its anonymised record is public at ``path`` (no client, no amounts)."""
    return await service.publish(body.bot_id)


@router.get("")
async def list_track_records(service: Records) -> list[TrackRecordView]:
    return await service.list()


@router.delete("/{slug}", status_code=status.HTTP_204_NO_CONTENT)
async def unpublish_track_record(slug: RowId, service: Records) -> Response:
    """Opt out: the public page is gone at once."""
    await service.unpublish(slug)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@public.get("/{slug}")
async def public_track_record(
    slug: RowId, context: ContextDep, response: Response
) -> PublicTrackRecord:
    """A published bot's return, drawdown, days and fills; anyone with the link may read it."""
    response.headers.update(CACHE_CONTROL)
    return await public_record(context.sessions, slug)


@public.get("/{slug}/page", response_class=HTMLResponse)
async def public_track_record_page(slug: RowId, context: ContextDep) -> HTMLResponse:
    """The same record as a page the portal links to."""
    record = await public_record(context.sessions, slug)
    return HTMLResponse(render_page(record), headers=CACHE_CONTROL)
