"""``Annotated`` dependencies the routers use: the shared context and who is calling.

``CurrentCustomer`` is a caller with a client (a first login provisions one), rate-limited per
client; ``CurrentOperator`` holds ``ADMIN_API_TOKEN`` or a token with the operator permission.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.exceptions import RedisError

from tradebot.api.context import ApiContext
from tradebot.auth.errors import AuthenticationError, ForbiddenError
from tradebot.auth.schemas import SERVICE_OPERATOR, Principal
from tradebot.auth.service import is_operator
from tradebot.auth.tokens import TokenClaims

log = logging.getLogger(__name__)
_bearer = HTTPBearer(auto_error=False, description="Auth0 access token (or ADMIN_API_TOKEN)")


async def api_context(request: Request) -> ApiContext:
    # Dependencies are ``async def`` even without an await: FastAPI runs a plain ``def``
    # dependency in a worker thread, a thread hop per request for a dictionary lookup.
    context: ApiContext = request.app.state.context
    return context


ContextDep = Annotated[ApiContext, Depends(api_context)]
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


async def _claims(context: ApiContext, token: str) -> TokenClaims:
    if context.verifier is None:
        raise AuthenticationError("token login is not configured on this server")
    return await context.verifier.verify(token)


async def _limit(context: ApiContext, key: str) -> None:
    try:
        await context.limiter.hit(key, context.settings.API_RATE_LIMIT_PER_CLIENT, "this client")
    except (RedisError, OSError) as exc:
        log.warning("rate limiter unavailable, request let through: %s", exc)


async def current_customer(context: ContextDep, credentials: BearerDep) -> Principal:
    token = _token(credentials)
    if _is_admin_token(context, token):
        raise ForbiddenError("the admin token has no client: use the operator routes")
    principal = await context.logins.principal(await _claims(context, token))
    await _limit(context, f"client:{principal.client_id}")
    return principal


async def current_operator(context: ContextDep, credentials: BearerDep) -> Principal:
    token = _token(credentials)
    if _is_admin_token(context, token):
        return SERVICE_OPERATOR
    claims = await _claims(context, token)
    if not is_operator(claims, context.settings.AUTH0_ADMIN_PERMISSION):
        raise ForbiddenError("operator permission required")
    await _limit(context, f"operator:{claims.subject}")
    return Principal(subject=claims.subject, operator=True, email=claims.email)


CurrentCustomer = Annotated[Principal, Depends(current_customer)]
CurrentOperator = Annotated[Principal, Depends(current_operator)]


RowId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
"""A bot, run or backtest id in a path: anything else cannot exist (and is a 422)."""
ClientIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
