"""Who is calling: ``Annotated`` dependencies every domain's routes use.

``CurrentClient`` is a caller with a client (a first login provisions one), rate-limited per
client; ``CurrentOperator`` holds ``ADMIN_API_TOKEN`` or a token with the operator permission.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tradebot.auth.errors import AuthenticationError, ForbiddenError
from tradebot.auth.schemas import SERVICE_OPERATOR, Principal
from tradebot.auth.service import LoginService, is_operator
from tradebot.auth.tokens import TokenClaims, TokenVerifier
from tradebot.kit.web import ApiContext, ContextDep, app_port
from tradebot.observability.logs import bind_log_context

_bearer = HTTPBearer(auto_error=False, description="Auth0 access token (or ADMIN_API_TOKEN)")


@dataclass(frozen=True)
class AuthPorts:
    """What login needs, stored on ``app.state.auth`` by the app factory."""

    logins: LoginService
    verifier: TokenVerifier | None
    """``None`` when AUTH0_ISSUER / AUTH0_AUDIENCE are unset: only the admin token works."""


async def _ports(request: Request) -> AuthPorts:
    ports: AuthPorts = app_port(request, "auth")
    return ports


PortsDep = Annotated[AuthPorts, Depends(_ports)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise AuthenticationError("a bearer token is required")
    return credentials.credentials


def _is_admin_token(context: ApiContext, token: str) -> bool:
    admin = context.settings.ADMIN_API_TOKEN
    return admin is not None and hmac.compare_digest(
        token.encode(), admin.get_secret_value().encode()
    )


async def _claims(ports: AuthPorts, token: str) -> TokenClaims:
    if ports.verifier is None:
        raise AuthenticationError("token login is not configured on this server")
    return await ports.verifier.verify(token)


async def _limit(context: ApiContext, key: str) -> None:
    # Redis down or silent lets the request through (RequestLimiter logs the outage once).
    await context.limiter.hit(key, context.settings.API_RATE_LIMIT_PER_CLIENT, "this client")


async def current_client(
    request: Request, context: ContextDep, ports: PortsDep, credentials: BearerDep
) -> Principal:
    token = _token(credentials)
    if _is_admin_token(context, token):
        raise ForbiddenError("the admin token has no client: use the operator routes")
    principal = await ports.logins.principal(await _claims(ports, token))
    # Every later line of the request says whose it is (``observability.request_context``).
    bind_log_context(client_id=principal.client_id, run_id=request.path_params.get("run_id"))
    await _limit(context, f"client:{principal.client_id}")
    return principal


async def current_operator(
    request: Request, context: ContextDep, ports: PortsDep, credentials: BearerDep
) -> Principal:
    token = _token(credentials)
    if _is_admin_token(context, token):
        principal = SERVICE_OPERATOR
    else:
        claims = await _claims(ports, token)
        if not is_operator(claims, context.settings.AUTH0_ADMIN_PERMISSION):
            raise ForbiddenError("operator permission required")
        await _limit(context, f"operator:{claims.subject}")
        principal = Principal(subject=claims.subject, operator=True, email=claims.email)
    # An operator route about a client or a run: its lines name them (the path's ids).
    path = request.path_params
    bind_log_context(client_id=path.get("client_id"), run_id=path.get("run_id"))
    return principal


CurrentClient = Annotated[Principal, Depends(current_client)]
CurrentOperator = Annotated[Principal, Depends(current_operator)]
