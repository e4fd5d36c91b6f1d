"""``/credentials``: the customer's exchange keys (stored sealed, shown masked)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from tradebot.auth.dependencies import CurrentClient
from tradebot.credentials.exchange_keys import ExchangeKeyService, KeysInput, StoredKeys
from tradebot.credentials.schemas import CredentialMetadata
from tradebot.kit.web import ContextDep, app_port
from tradebot.venues.permissions import KeyPermissionCheck

router = APIRouter(prefix="/credentials", tags=["credentials"])


async def _key_check(request: Request) -> KeyPermissionCheck | None:
    """Asks the exchange what a key may do; ``None`` stores keys unverified (paper only)."""
    check: KeyPermissionCheck | None = app_port(request, "key_check")
    return check


KeyCheck = Annotated[KeyPermissionCheck | None, Depends(_key_check)]


async def _keys(context: ContextDep, user: CurrentClient, check: KeyCheck) -> ExchangeKeyService:
    return ExchangeKeyService(context.sessions, user.scope(), user.actor, context.settings, check)


Keys = Annotated[ExchangeKeyService, Depends(_keys)]


@router.put("")
async def store_credentials(body: KeysInput, keys: Keys) -> StoredKeys:
    """Store a key (or rotate the key of the same exchange and label). Withdraw keys are refused."""
    return await keys.store(body)


@router.get("")
async def list_credentials(keys: Keys) -> list[CredentialMetadata]:
    """Stored keys, masked: the last 4 characters of the key id at most."""
    return list(await keys.list())
