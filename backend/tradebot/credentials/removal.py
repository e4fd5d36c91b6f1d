"""Deleting one of a client's exchange keys: refused while a live run trades with it, audited.

Live runs trade with the exchange's ``main`` key (``runs.configuration``), so a live run that
is queued or running on that exchange holds it; a key of another label is never in use.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from tradebot.billing.repository import EntitlementRepository
from tradebot.clients.repository import AuditRepository
from tradebot.credentials.repository import CredentialRepository
from tradebot.credentials.service import exchange_id, label_name
from tradebot.errors import ConflictError, NotFoundError
from tradebot.kit.repository import ScopedRepository
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.models.runs import BotRun, RunMode, RunStatus

LIVE_KEY_LABEL = "main"
"""The label of the key live runs trade with."""
_ACTIVE = (RunStatus.CREATED.value, RunStatus.RUNNING.value)


class LiveRunRepository(ScopedRepository[BotRun]):
    model = BotRun
    noun = "run"

    async def active_on(self, exchange: str) -> list[str]:
        """Ids of the client's live runs on ``exchange`` that are queued or running."""
        rows = await self.list(
            col(BotRun.mode) == RunMode.LIVE.value,
            col(BotRun.exchange) == exchange,
            col(BotRun.status).in_(_ACTIVE),
            order_by=(col(BotRun.created_at),),
        )
        return [row.id for row in rows]


async def delete_key(
    session: AsyncSession, scope: ClientScope, actor: str, exchange: str, label: str
) -> None:
    """Delete the scope's key of ``exchange``/``label`` in the caller's transaction."""
    venue, name = exchange_id(exchange), label_name(label)
    # The client row's lock serialises this with a live run start (which takes it too).
    await EntitlementRepository(session, scope).facts(lock=True)
    keys = CredentialRepository(session, scope)
    row = await keys.by_label(venue, name)
    if row is None:
        raise NotFoundError(f"no {venue} key labelled {name!r}")
    if name == LIVE_KEY_LABEL:
        live = await LiveRunRepository(session, scope).active_on(venue)
        if live:
            raise ConflictError(
                f"live run {live[0]} trades with this {venue} key: stop it before deleting the key"
            )
    await keys.delete(row.id)
    await AuditRepository(session, scope).record(
        actor,
        "credentials_deleted",
        target=f"{venue}/{name}",
        details={"credential_id": row.id, "key_id": f"****{row.key_id_last4}"},
    )


async def delete_client_key(
    sessions: async_sessionmaker[AsyncSession],
    scope: ClientScope,
    actor: str,
    exchange: str,
    label: str,
) -> None:
    """``delete_key`` in one tenant transaction of the scope's client."""
    async with client_transaction(sessions, scope) as session:
        await delete_key(session, scope, actor, exchange, label)
