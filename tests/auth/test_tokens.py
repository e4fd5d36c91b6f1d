"""Auth0 access tokens through the API: every forgery and mistake below is a 401.

Tokens are minted with a local RSA key whose JWKS is served over HTTP on loopback; the
verifier is never patched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey

from tests.api.fakes import Issuer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def _claims(issuer: Issuer, sub: str = "auth0|forger") -> dict[str, Any]:
    now = int(time.time())
    return {"iss": issuer.url, "aud": issuer.audience, "sub": sub, "iat": now, "exp": now + 600}


async def _status(api: httpx.AsyncClient, token: str) -> int:
    response = await api.get("/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


async def test_valid_token_is_accepted(api: httpx.AsyncClient, issuer: Issuer) -> None:
    assert await _status(api, issuer.token("auth0|valid-user")) == 200


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"exp": int(time.time()) - 120}, "expired beyond the 60 s skew"),
        ({"aud": "https://another-api.test"}, "wrong audience"),
        ({"iss": "https://evil.example.test/"}, "wrong issuer"),
        ({"exp": None}, "no expiry"),
        ({"aud": None}, "no audience"),
        ({"nbf": int(time.time()) + 600}, "not valid yet"),
    ],
)
async def test_bad_claims_are_refused(
    api: httpx.AsyncClient, issuer: Issuer, claims: dict[str, Any], why: str
) -> None:
    assert await _status(api, issuer.token("auth0|claims", **claims)) == 401, why


async def test_token_without_subject_is_refused(api: httpx.AsyncClient, issuer: Issuer) -> None:
    assert await _status(api, issuer.token(None)) == 401


async def test_expiry_within_clock_skew_is_tolerated(
    api: httpx.AsyncClient, issuer: Issuer
) -> None:
    token = issuer.token("auth0|skewed-clock", exp=int(time.time()) - 20)
    assert await _status(api, token) == 200


async def test_alg_none_is_refused(api: httpx.AsyncClient, issuer: Issuer) -> None:
    token = _unsigned({"alg": "none", "kid": issuer.key.kid}, _claims(issuer)) + "."
    assert await _status(api, token) == 401


async def test_hs256_signed_with_the_public_key_is_refused(
    api: httpx.AsyncClient, issuer: Issuer
) -> None:
    # The classic confusion: a verifier that lets the token pick HS256 would check this HMAC
    # with the issuer's public key, which anyone can fetch from the JWKS.
    public_pem = issuer.key.as_pem(private=False)
    signing_input = _unsigned({"alg": "HS256", "kid": issuer.key.kid}, _claims(issuer))
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert await _status(api, f"{signing_input}.{_b64(signature)}") == 401


async def test_token_without_kid_is_refused(api: httpx.AsyncClient, issuer: Issuer) -> None:
    assert await _status(api, issuer.token("auth0|no-kid", header={"kid": None})) == 401


async def test_embedded_jwk_header_is_ignored(api: httpx.AsyncClient, issuer: Issuer) -> None:
    # Signed by the attacker's key, which the header carries along (jwk) and points to (jku):
    # the key must come from the issuer's JWKS only.
    attacker = RSAKey.generate_key(2048, parameters={"kid": issuer.key.kid})
    header = {
        "jwk": attacker.as_dict(private=False),
        "jku": "http://127.0.0.1:9/jwks.json",
        "x5u": "http://127.0.0.1:9/cert.pem",
    }
    token = issuer.token("auth0|attacker", key=attacker, header=header)
    assert await _status(api, token) == 401


async def test_rotated_key_is_fetched_once_and_unknown_kid_refused(
    make_client: Callable[..., Any], issuer: Issuer
) -> None:
    api = await make_client()
    assert await _status(api, issuer.token("auth0|before-rotation")) == 200
    fetches = issuer.fetches
    rotated = issuer.rotate("key-rotated")
    assert await _status(api, issuer.token("auth0|after-rotation", key=rotated)) == 200
    assert issuer.fetches == fetches + 1
    stranger = RSAKey.generate_key(2048, parameters={"kid": "never-published"})
    assert await _status(api, issuer.token("auth0|unknown-kid", key=stranger)) == 401
    assert await _status(api, issuer.token("auth0|unknown-kid", key=stranger)) == 401
    # Refreshes are spaced out: made-up kids cannot make us hammer the issuer.
    assert issuer.fetches == fetches + 1


async def test_garbage_bearer_is_refused(api: httpx.AsyncClient) -> None:
    for token in ("not-a-jwt", "a.b.c", "Zm9v.YmFy.YmF6"):
        assert await _status(api, token) == 401


async def test_operator_claim_reaches_admin_routes_and_customer_does_not(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    operator = login(permissions=["admin:all"])
    customer = login(permissions=["read:bots"])
    assert (await api.get("/clients", headers=operator)).status_code == 200
    assert (await api.get("/clients", headers=customer)).status_code == 403


async def test_unreachable_issuer_is_503_not_a_crash(
    make_client: Callable[..., Any], issuer: Issuer
) -> None:
    api = await make_client(AUTH0_ISSUER="http://127.0.0.1:9/")
    token = issuer.token("auth0|issuer-down", iss="http://127.0.0.1:9/")
    response = await api.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.json()["type"] == "/problems/auth-unavailable"


async def test_namespaced_roles_claim_makes_an_operator(
    make_client: Callable[..., Any], login: Callable[..., dict[str, str]]
) -> None:
    claim = "https://tradebot.test/roles"
    api = await make_client(AUTH0_ROLES_CLAIM=claim)
    assert (await api.get("/clients", headers=login(**{claim: ["admin"]}))).status_code == 200
    assert (await api.get("/clients", headers=login(**{claim: ["viewer"]}))).status_code == 403


@pytest.mark.parametrize(
    "claims",
    [
        {"scope": "openid admin:all"},
        {"scope": "admin:all", "permissions": ["read:bots"]},
        {"permissions": "openid admin:all"},
    ],
    ids=["scope-only", "scope-beside-permissions", "permissions-as-a-string"],
)
async def test_requested_scope_never_grants_operator_rights(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]], claims: dict[str, Any]
) -> None:
    # With RBAC off, Auth0 grants whatever scope a user asks for: only the permissions list the
    # API's RBAC fills in (or the configured roles claim) may make an operator.
    headers = login(**claims)
    assert (await api.get("/admin/kpis", headers=headers)).status_code == 403
    assert (await api.get("/clients", headers=headers)).status_code == 403
    assert (await api.get("/me", headers=headers)).status_code == 200
