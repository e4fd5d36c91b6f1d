"""Logins: a verified token becomes a ``Principal``; a first login gets its own Trial client.

The client id is derived from the subject (a hash), so two concurrent first requests of one
user race to insert the same rows: the loser's insert fails on the primary key and it reads
the winner's rows instead of creating a second client.

A login's row never changes once written (nothing updates or deletes ``users``), so each
process remembers a subject's client for ``LOGIN_TTL_S``: a caller's every request then costs
no directory query, only its first one in that time.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.auth.repository import UserDirectory
from tradebot.auth.schemas import Principal
from tradebot.auth.tokens import TokenClaims
from tradebot.clients.repository import AuditRepository
from tradebot.db import transaction
from tradebot.kit.cache import ExpiringCache
from tradebot.kit.scope import ClientScope
from tradebot.models.auth import User
from tradebot.models.clients import Client

TRIAL_PLAN = "trial"
LOGIN_TTL_S = 300.0
LOGINS_KEPT = 10_000


def client_id_for(subject: str) -> str:
    return "c-" + hashlib.sha256(subject.encode()).hexdigest()[:20]


def is_operator(claims: TokenClaims, admin_permission: str) -> bool:
    return admin_permission in claims.permissions or "admin" in claims.roles


class LoginService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], admin_permission: str) -> None:
        self.sessions = sessions
        self.admin_permission = admin_permission
        self._known: ExpiringCache[str, tuple[str, str]] = ExpiringCache(LOGINS_KEPT)
        """subject -> (client id, email) of logins read recently."""

    async def principal(self, claims: TokenClaims) -> Principal:
        """The caller with its client; the first login provisions a client on the Trial plan."""
        operator = is_operator(claims, self.admin_permission)
        known = self._known.get(claims.subject)
        if known is None:
            user = await self._login(claims)
            known = (user.client_id, user.email)
            self._known.put(claims.subject, known, LOGIN_TTL_S)
        return Principal(claims.subject, operator, *known)

    async def _login(self, claims: TokenClaims) -> User:
        for _ in range(2):
            try:
                return await self._user(claims)
            except IntegrityError:
                continue  # a concurrent first login of the same user won: read its rows
        raise RuntimeError("login directory kept conflicting")  # pragma: no cover

    async def _user(self, claims: TokenClaims) -> User:
        async with transaction(self.sessions) as session:
            directory = UserDirectory(session)
            user = await directory.find(claims.subject)
            if user is not None:
                return user
            client = Client(
                id=client_id_for(claims.subject),
                name=claims.email or claims.subject,
                owner=claims.email or claims.subject,
                plan=TRIAL_PLAN,
            )
            user = User(sub=claims.subject, client_id=client.id, email=claims.email)
            await directory.provision(user, client)
            await AuditRepository(session, ClientScope.of(client.id)).record(
                f"user:{claims.subject}",
                "client_provisioned",
                target=f"client {client.id}",
                details={"plan": TRIAL_PLAN},
            )
            return user
