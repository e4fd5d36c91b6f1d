"""A customer's own exchange keys through the API: store or rotate (sealed), list masked.

Storing checks the plan (number of exchanges) in the client's tenant transaction, then goes
through ``credentials.storing``, the same path as the admin CLI and the operator route.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue, SecretStr, field_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.billing.entitlements import require_exchange
from tradebot.billing.repository import EntitlementRepository
from tradebot.config import Settings
from tradebot.credentials.schemas import CredentialMetadata
from tradebot.credentials.service import CredentialService, exchange_id
from tradebot.credentials.storing import NewKey, store_credentials
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.kit.secrets import Secret
from tradebot.kit.text import NO_CONTROL_CHARACTERS, plain_secret
from tradebot.venues.permissions import KeyPermissionCheck

PLAIN_SECRET: dict[str, JsonValue] = {"pattern": NO_CONTROL_CHARACTERS}
"""Documents ``plain_secret`` (a ``SecretStr`` takes no ``pattern`` constraint)."""


class KeysInput(BaseModel):
    """An exchange key as the customer pastes it. Secrets never appear in errors or logs."""

    model_config = ConfigDict(extra="forbid")

    exchange: str = Field(pattern=r"^[a-z][a-z0-9]{1,31}$")
    label: str = Field(default="main", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    api_key: SecretStr = Field(min_length=1, max_length=512, json_schema_extra=PLAIN_SECRET)
    api_secret: SecretStr = Field(min_length=1, max_length=1024, json_schema_extra=PLAIN_SECRET)
    passphrase: SecretStr | None = Field(
        default=None, min_length=1, max_length=256, json_schema_extra=PLAIN_SECRET
    )

    # A key with CR/LF would go into an HTTP header of the request to the exchange.
    _plain = field_validator("api_key", "api_secret", "passphrase")(plain_secret)


class StoredKeys(BaseModel):
    credentials: CredentialMetadata
    replaced: bool
    """True when a key of the same exchange and label was rotated out."""


def master_key(settings: Settings) -> Secret | None:
    value = settings.CLIENT_MASTER_KEY
    return Secret(value.get_secret_value()) if value is not None else None


async def store_keys(
    sessions: async_sessionmaker[AsyncSession],
    actor: str,
    client: str,
    body: KeysInput,
    settings: Settings,
    check: KeyPermissionCheck | None,
) -> StoredKeys:
    """Seal and store ``body`` for ``client`` (no plan check: the operator path uses it too)."""
    key = NewKey(
        body.exchange,
        body.api_key.get_secret_value(),
        body.api_secret.get_secret_value(),
        body.passphrase.get_secret_value() if body.passphrase is not None else None,
        body.label,
    )
    stored = await store_credentials(sessions, actor, client, key, master_key(settings), check)
    return StoredKeys(credentials=stored.metadata, replaced=stored.replaced)


class ExchangeKeyService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        scope: ClientScope,
        actor: str,
        settings: Settings,
        check: KeyPermissionCheck | None,
    ) -> None:
        self.sessions = sessions
        self.scope = scope
        self.actor = actor
        self.settings = settings
        self.check = check

    async def store(self, body: KeysInput) -> StoredKeys:
        async with client_transaction(self.sessions, self.scope) as session:
            facts = await EntitlementRepository(session, self.scope).facts()
            require_exchange(facts, exchange_id(body.exchange), datetime.now(UTC))
        return await store_keys(
            self.sessions, self.actor, self.scope.client_id, body, self.settings, self.check
        )

    async def list(self) -> Sequence[CredentialMetadata]:
        async with client_transaction(self.sessions, self.scope) as session:
            return await CredentialService(session, self.scope).metadata()
