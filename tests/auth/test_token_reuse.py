"""What the auth layer remembers between requests: a verified token (never past its expiry)
and a login's client (read from the directory once, not on every request)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from tests.api.fakes import Issuer
from tradebot.auth.errors import AuthenticationError
from tradebot.auth.jwks import JwksCache
from tradebot.auth.tokens import TokenVerifier


async def test_a_remembered_token_is_refused_once_it_expires(issuer: Issuer) -> None:
    async with httpx.AsyncClient() as http:
        jwks = JwksCache(f"{issuer.url}.well-known/jwks.json", http)
        verifier = TokenVerifier(issuer.url, issuer.audience, jwks, leeway_s=0)
        expires = int(time.time()) + 2
        token = issuer.token("auth0|short-lived", exp=expires)
        first = await verifier.verify(token)
        assert await verifier.verify(token) == first  # served from memory
        await asyncio.sleep(expires + 1.1 - time.time())
        with pytest.raises(AuthenticationError):
            await verifier.verify(token)


async def test_a_remembered_token_does_not_vouch_for_a_tampered_copy(issuer: Issuer) -> None:
    async with httpx.AsyncClient() as http:
        jwks = JwksCache(f"{issuer.url}.well-known/jwks.json", http)
        verifier = TokenVerifier(issuer.url, issuer.audience, jwks)
        token = issuer.token("auth0|victim")
        await verifier.verify(token)
        header, payload, signature = token.split(".")
        forged = issuer.token("auth0|attacker").split(".")[1]
        with pytest.raises(AuthenticationError):
            await verifier.verify(f"{header}.{forged}.{signature}")
        with pytest.raises(AuthenticationError):
            await verifier.verify(f"{header}.{payload}.{signature[:-4]}AAAA")


async def test_a_known_login_is_read_from_the_directory_once(
    make_client: Callable[..., Any], login: Callable[..., dict[str, str]]
) -> None:
    api: httpx.AsyncClient = await make_client()
    engine = api._transport.app.state.context.engine  # type: ignore[attr-defined]
    directory_reads: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM users" in statement:
            directory_reads.append(statement)

    headers = login()
    first = await api.get("/me", headers=headers)  # provisions the client
    event.listen(engine.sync_engine, "before_cursor_execute", watch)
    try:
        for _ in range(3):
            again = await api.get("/me", headers=headers)
            assert again.json()["client_id"] == first.json()["client_id"]
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", watch)
    assert directory_reads == []
