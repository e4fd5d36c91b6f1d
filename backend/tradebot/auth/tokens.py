"""Auth0 access tokens: RS256 only, signed by a key of the issuer's JWKS, claims checked.

What is refused, and why:

- any ``alg`` but RS256, including ``none`` and HS256 (an HS256 token "signed" with the
  issuer's *public* key is the classic algorithm-confusion forgery);
- a header without ``kid``, or a ``kid`` the JWKS does not have after one refresh;
- ``jku`` / ``x5u`` / embedded ``jwk`` headers are never read: the key always comes from the
  configured issuer's JWKS, so a token cannot bring its own key;
- missing or wrong ``iss`` / ``aud``, a missing ``sub``, a missing or passed ``exp`` (a clock
  skew of at most 60 s is tolerated on ``exp``, ``nbf`` and ``iat``);
- rights asked for in ``scope``: only the ``permissions`` list (and the configured roles
  claim) grants anything, since a user chooses the scopes its login asks for.

A token that passed is remembered (by its SHA-256, never the token itself) for at most
``VERIFIED_TTL_S``, and never past its ``exp``: a client polling with the same token skips the
RSA check and the claim parsing. ``exp`` is compared with the clock again on every reuse. Only
a key the issuer withdraws is noticed later than that, and the JWKS itself is kept an hour.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Final

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jws import extract_compact
from joserfc.jwt import JWTClaimsRegistry

from tradebot.auth.errors import AuthenticationError
from tradebot.auth.jwks import JwksCache
from tradebot.kit.cache import ExpiringCache
from tradebot.kit.text import has_control_characters

ALGORITHM: Final = "RS256"
MAX_LEEWAY_S: Final = 60
VERIFIED_TTL_S: Final = 60.0
TOKENS_KEPT: Final = 10_000


@dataclass(frozen=True)
class TokenClaims:
    """The claims of a verified token that the API uses."""

    subject: str
    email: str
    permissions: tuple[str, ...]
    roles: tuple[str, ...]


def _strings(value: Any) -> tuple[str, ...]:
    """The strings of a JSON list claim; anything else grants nothing."""
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


class TokenVerifier:
    """Verifies bearer tokens of one issuer and audience."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks: JwksCache,
        *,
        roles_claim: str | None = None,
        leeway_s: int = MAX_LEEWAY_S,
    ) -> None:
        if not 0 <= leeway_s <= MAX_LEEWAY_S:
            raise ValueError(f"clock skew must be within 0..{MAX_LEEWAY_S} s")
        self.issuer = issuer
        self.audience = audience
        self._jwks = jwks
        self._roles_claim = roles_claim
        self._leeway = leeway_s
        self._verified: ExpiringCache[bytes, tuple[TokenClaims, float]] = ExpiringCache(TOKENS_KEPT)
        """SHA-256 of a token that passed -> (its claims, the wall-clock time it expires)."""

    async def verify(self, token: str) -> TokenClaims:
        """The token's claims, or ``AuthenticationError`` (the message never echoes the token)."""
        digest = hashlib.sha256(token.encode()).digest()
        seen = self._verified.get(digest)
        if seen is not None and time.time() <= seen[1]:
            return seen[0]
        claims, expires_at = await self._verify(token)
        self._verified.put(
            digest, (claims, expires_at), min(VERIFIED_TTL_S, expires_at - time.time())
        )
        return claims

    async def _verify(self, token: str) -> tuple[TokenClaims, float]:
        """The claims and the last wall-clock second (``exp`` + skew) the token is good for."""
        header = self._header(token)
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationError("token has no key id (kid)")
        key = await self._jwks.key(kid)
        if key is None:
            raise AuthenticationError("token is signed by an unknown key")
        try:
            decoded = jwt.decode(token, key, algorithms=[ALGORITHM])
            self._registry().validate(decoded.claims)
        except JoseError as exc:
            raise AuthenticationError(f"token refused: {exc.error}") from None
        claims = decoded.claims
        subject, email = str(claims["sub"]), str(claims.get("email", ""))[:320]
        if has_control_characters(subject) or has_control_characters(email):
            # Neither can be stored (PostgreSQL refuses NUL) nor logged safely (CR/LF).
            raise AuthenticationError("token refused: control characters in sub or email")
        roles = _strings(claims.get(self._roles_claim)) if self._roles_claim else ()
        verified = TokenClaims(
            subject=subject,
            email=email,
            # Never ``scope``: with RBAC off, Auth0 grants any scope a user asks for. Only the
            # ``permissions`` list that the API's RBAC fills in says what the caller may do.
            permissions=_strings(claims.get("permissions")),
            roles=roles,
        )
        return verified, float(claims["exp"]) + self._leeway

    @staticmethod
    def _header(token: str) -> dict[str, Any]:
        try:
            header = extract_compact(token.encode("ascii")).protected
        except (JoseError, ValueError, UnicodeError):
            raise AuthenticationError("not a signed JWT") from None
        if header.get("alg") != ALGORITHM:
            raise AuthenticationError(f"token algorithm must be {ALGORITHM}")
        return dict(header)

    def _registry(self) -> JWTClaimsRegistry:
        return JWTClaimsRegistry(
            now=lambda: int(time.time()),
            leeway=self._leeway,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            sub={"essential": True},
            exp={"essential": True},
        )
