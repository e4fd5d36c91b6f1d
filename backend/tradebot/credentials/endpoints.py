"""``/credentials``: the customer's exchange keys (stored sealed, shown masked)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from tradebot.api.deps import ContextDep, CurrentCustomer
from tradebot.credentials.exchange_keys import ExchangeKeyService, KeysInput, StoredKeys
from tradebot.credentials.schemas import CredentialMetadata

router = APIRouter(prefix="/credentials", tags=["credentials"])


def _keys(context: ContextDep, user: CurrentCustomer) -> ExchangeKeyService:
    return ExchangeKeyService(
        context.sessions, user.scope(), user.actor, context.settings, context.key_check
    )


Keys = Annotated[ExchangeKeyService, Depends(_keys)]


@router.put("")
async def store_credentials(body: KeysInput, keys: Keys) -> StoredKeys:
    """Store a key (or rotate the key of the same exchange and label). Withdraw keys are refused."""
    return await keys.store(body)


@router.get("")
async def list_credentials(keys: Keys) -> list[CredentialMetadata]:
    """Stored keys, masked: the last 4 characters of the key id at most."""
    return list(await keys.list())
