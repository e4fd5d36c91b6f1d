"""The issuer's signing keys (JWKS), fetched over HTTP and cached.

A token names its key by ``kid``. An unknown ``kid`` triggers one refresh (the issuer may have
rotated its keys); such forced refreshes are spaced at least ``min_refresh_s`` apart, so a
stream of tokens with made-up ``kid`` values cannot turn us into a load generator against the
issuer. The whole set is also reloaded once it is ``ttl_s`` old (keys the issuer withdrew go).
Only RSA signing keys are kept: the verifier accepts nothing but RS256.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from tradebot.auth.errors import AuthenticationError

RETRY_AFTER_FAILURE_S = 5.0


class JwksUnavailableError(AuthenticationError):
    """The issuer's JWKS could not be fetched or read."""


def _rsa_signing_keys(document: Any) -> dict[str, RSAKey]:
    keys: dict[str, RSAKey] = {}
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise JwksUnavailableError("the issuer's JWKS has no 'keys' list")
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or entry.get("use", "sig") != "sig":
            continue
        if entry.get("alg", "RS256") != "RS256":
            continue
        public = {k: v for k, v in entry.items() if k in ("kty", "n", "e", "kid")}
        try:
            keys[kid] = RSAKey.import_key(public)
        except (JoseError, ValueError, TypeError):
            continue  # one malformed entry must not take the others down
    return keys


class JwksCache:
    """Signing keys of one issuer, by ``kid``."""

    def __init__(
        self,
        url: str,
        http: httpx.AsyncClient,
        *,
        min_refresh_s: float = 30.0,
        ttl_s: float = 3600.0,
    ) -> None:
        self.url = url
        self._http = http
        self._min_refresh_s = min_refresh_s
        self._ttl_s = ttl_s
        self._keys: dict[str, RSAKey] = {}
        self._loaded_at: float | None = None
        self._forced_at: float | None = None
        self._failed_at: float | None = None
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> RSAKey | None:
        """The key named ``kid``: from the cache, else after at most one refresh."""
        now = time.monotonic()
        fresh = self._loaded_at is not None and now - self._loaded_at < self._ttl_s
        if fresh and kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            fresh = self._loaded_at is not None and now - self._loaded_at < self._ttl_s
            if fresh and kid in self._keys:  # loaded by another request while this one waited
                return self._keys[kid]
            if not fresh:
                await self._load(now)
            elif self._forced_at is None or now - self._forced_at >= self._min_refresh_s:
                self._forced_at = now
                await self._load(now)
        return self._keys.get(kid)

    async def _load(self, now: float) -> None:
        if self._failed_at is not None and now - self._failed_at < RETRY_AFTER_FAILURE_S:
            raise JwksUnavailableError("the issuer's signing keys are unavailable (retrying soon)")
        try:
            self._keys = await self._fetch()
        except JwksUnavailableError:
            self._failed_at = now  # an issuer outage must not become one fetch per request
            raise
        self._loaded_at, self._failed_at = now, None

    async def _fetch(self) -> dict[str, RSAKey]:
        try:
            response = await self._http.get(self.url, timeout=5.0)
            response.raise_for_status()
            return _rsa_signing_keys(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise JwksUnavailableError(
                f"cannot fetch the issuer's signing keys ({type(exc).__name__})"
            ) from None
