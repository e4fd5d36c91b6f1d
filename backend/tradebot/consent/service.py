"""Risk consent: what a client accepted, accepting the current texts, and the live-start check.

An acceptance names the exact version (``risk-v1``) the user read; accepting a version that is
no longer current is refused (``ConflictError``, the portal shows the new text instead), so a
consent can never be given to a text the user did not see. A live start needs an acceptance of
the current version of every document (``missing_consent``): publishing a new version asks
every client again.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.clients.repository import AuditRepository
from tradebot.consent.documents import ConsentText, ConsentTexts, packaged_texts, parse_key
from tradebot.consent.repository import ConsentRepository
from tradebot.consent.schemas import ConsentAccept, ConsentDocumentView, ConsentRecord, ConsentState
from tradebot.errors import BadInputError, ConflictError
from tradebot.kit.scope import ClientScope
from tradebot.kit.service import ClientService
from tradebot.models.consent import ConsentAcceptance


async def missing_consent(
    session: AsyncSession, scope: ClientScope, texts: ConsentTexts | None = None
) -> list[str]:
    """The current versions (``risk-v2``) the client has not accepted; empty: live may start.
    In the caller's transaction."""
    current = (texts or packaged_texts()).current()
    accepted = await ConsentRepository(session, scope).accepted_versions(list(current))
    return [text.key for text in current.values() if (text.document, text.version) not in accepted]


class ConsentService(ClientService):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        scope: ClientScope,
        actor: str,
        subject: str,
        texts: ConsentTexts | None = None,
    ) -> None:
        super().__init__(sessions, scope, actor)
        self.subject = subject
        """The token subject of the user: who accepted."""
        self.texts = texts or packaged_texts()

    async def state(self) -> ConsentState:
        async with self.tx() as session:
            return await self._state(session)

    async def accept(self, body: ConsentAccept, ip: str) -> ConsentState:
        """Record the user's acceptance of ``body.versions``, each the current version of its
        document (an older one is a ``ConflictError``). Accepting twice records it once."""
        chosen = [self._current_text(key) for key in dict.fromkeys(body.versions)]
        async with self.tx() as session:
            repository = ConsentRepository(session, self.scope)
            accepted = await repository.accepted_versions([text.document for text in chosen])
            new = [text for text in chosen if (text.document, text.version) not in accepted]
            for text in new:
                await repository.add(
                    ConsentAcceptance(
                        client_id=self.scope.client_id,
                        document=text.document,
                        version=text.version,
                        text_sha256=text.sha256,
                        subject=self.subject,
                        ip=ip,
                    )
                )
            if new:
                await AuditRepository(session, self.scope).record(
                    self.actor,
                    "consent_accepted",
                    target="consent",
                    details={"versions": [text.key for text in new], "ip": ip},
                )
            return await self._state(session)

    def _current_text(self, key: str) -> ConsentText:
        parsed = parse_key(key)
        current = self.texts.current()
        if parsed is None or parsed[0] not in current:
            raise BadInputError(f"{key!r} is not a consent document (known: {', '.join(current)})")
        document, version = parsed
        latest = current[document]
        if version == latest.version:
            return latest
        if self.texts.find(document, version) is None:
            raise BadInputError(f"{key!r} does not exist (the current version is {latest.key})")
        raise ConflictError(
            f"{key} is no longer current: read and accept {latest.key} (GET /consent)"
        )

    async def _state(self, session: AsyncSession) -> ConsentState:
        rows = await ConsentRepository(session, self.scope).history()
        when = {(row.document, row.version): row.accepted_at for row in reversed(rows)}
        documents = [
            ConsentDocumentView(
                document=text.document,
                version=text.version,
                key=text.key,
                title=text.title,
                text=text.text,
                sha256=text.sha256,
                accepted_at=when.get((text.document, text.version)),
            )
            for text in self.texts.current().values()
        ]
        missing = [view.key for view in documents if view.accepted_at is None]
        history = [
            ConsentRecord(
                key=f"{row.document}-v{row.version}",
                subject=row.subject,
                ip=row.ip,
                accepted_at=row.accepted_at,
            )
            for row in rows
        ]
        return ConsentState(
            documents=documents, live_allowed=not missing, missing=missing, history=history
        )
