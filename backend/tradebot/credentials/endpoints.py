"""``/credentials``: the customer's exchange keys (stored sealed, shown masked)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from tradebot.auth.dependencies import CurrentClient
from tradebot.credentials.exchange_keys import ExchangeKeyService, KeysInput, StoredKeys
from tradebot.credentials.removal import delete_client_key
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


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def delete_credentials(
    context: ContextDep,
    user: CurrentClient,
    exchange: Annotated[str, Query(pattern=r"^[a-z][a-z0-9]{1,31}$")],
    label: Annotated[str, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")] = "main",
) -> Response:
    """Delete a stored key (audited); 409 while a live run trades with it."""
    await delete_client_key(context.sessions, user.scope(), user.actor, exchange, label)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
