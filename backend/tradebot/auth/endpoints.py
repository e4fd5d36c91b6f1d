"""``/me``: the caller, their client and its audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tradebot.auth.account import AccountService
from tradebot.auth.dependencies import CurrentClient
from tradebot.auth.schemas import AuditEntry, MeView
from tradebot.kit.web import ContextDep

router = APIRouter(prefix="/me", tags=["me"])


async def _account(  # async: no thread hop (see kit.web)
    context: ContextDep, user: CurrentClient
) -> AccountService:
    return AccountService(context.sessions, user)


Account = Annotated[AccountService, Depends(_account)]


@router.get("")
async def get_me(account: Account) -> MeView:
    """The caller and their client (a first call provisions a client on the Trial plan)."""
    return await account.me()


@router.get("/audit")
async def list_audit(
    account: Account,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AuditEntry]:
    """The client's audit trail, newest first."""
    return await account.audit(limit, offset)
