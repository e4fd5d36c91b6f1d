"""Errors as RFC 9457 problem bodies (``application/problem+json``), never a stack trace.

Our error tree maps onto status codes here, in one table (most specific class first). Anything
not in it is a 500 whose body says only that something went wrong; the exception goes to the
log with the request path.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tradebot.auth.errors import AuthenticationError, ForbiddenError
from tradebot.auth.jwks import JwksUnavailableError
from tradebot.billing.errors import (
    BillingUnavailableError,
    PaymentRequiredError,
    PlanLimitError,
    WebhookSignatureError,
)
from tradebot.candles.fetch import CandleFetchError
from tradebot.credentials.keyring import NoMasterKeyError, WrongMasterKeyError
from tradebot.dex.errors import DexNodeError
from tradebot.engine.errors import GridPlanError
from tradebot.errors import BadInputError, ConfigError, ConflictError, NotFoundError, TradeBotError
from tradebot.kit.ratelimit import TooManyRequestsError
from tradebot.kit.scope import ClientMismatchError
from tradebot.runs.configuration import RunNotAllowedError
from tradebot.venues.permissions import KeyPermissionError

log = logging.getLogger(__name__)
MEDIA_TYPE: Final = "application/problem+json"

# (error class, status, type slug, title); the first class the error is an instance of wins
PROBLEMS: Final[tuple[tuple[type[Exception], int, str, str], ...]] = (
    (TooManyRequestsError, 429, "rate-limited", "Too many requests"),
    (JwksUnavailableError, 503, "auth-unavailable", "Token keys unavailable"),
    (AuthenticationError, 401, "unauthenticated", "Authentication required"),
    (ForbiddenError, 403, "forbidden", "Forbidden"),
    (PaymentRequiredError, 402, "payment-required", "A paid plan is required"),
    (PlanLimitError, 403, "plan-limit", "Plan limit reached"),
    (RunNotAllowedError, 403, "run-not-allowed", "Run not allowed"),
    (KeyPermissionError, 422, "key-permissions", "Exchange key refused"),
    (ClientMismatchError, 404, "not-found", "Not found"),
    (NotFoundError, 404, "not-found", "Not found"),
    (ConflictError, 409, "conflict", "Conflict"),
    (WebhookSignatureError, 400, "bad-signature", "Signature check failed"),
    (BillingUnavailableError, 503, "billing-unavailable", "Billing unavailable"),
    (CandleFetchError, 503, "market-data-unavailable", "The exchange did not answer"),
    (DexNodeError, 502, "node-unavailable", "The blockchain node did not answer"),
    (ConfigError, 503, "not-configured", "Service not configured"),
    (WrongMasterKeyError, 503, "not-configured", "Service not configured"),
    (NoMasterKeyError, 503, "not-configured", "Service not configured"),
    (BadInputError, 422, "bad-input", "Invalid input"),
    (GridPlanError, 422, "invalid-grid", "Grid cannot trade"),
    (TradeBotError, 400, "refused", "Request refused"),
)


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": f"/problems/{slug}", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _classify(exc: Exception) -> tuple[int, str, str] | None:
    for cls, status, slug, title in PROBLEMS:
        if isinstance(exc, cls):
            return status, slug, title
    return None


async def _our_error(request: Request, exc: Exception) -> JSONResponse:
    found = _classify(exc)
    if found is None:
        return await _unexpected(request, exc)
    status, slug, title = found
    headers: dict[str, str] = {}
    if isinstance(exc, TooManyRequestsError):
        headers["Retry-After"] = str(exc.retry_after)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    # A 5xx body says nothing about our configuration; the log has the reason.
    detail = str(exc) if status < 500 else None
    if status >= 500:
        log.error("request %s refused: %s", request.url.path, exc)
    return problem(status, slug, title, detail, instance=request.url.path, headers=headers)


DATA_EXCEPTION_CLASS: Final = "22"
"""SQLSTATE class "data exception": a value the database cannot take (a NUL in text, a number
out of range, an invalid JSON escape), whichever driver error class it arrives as."""


def _is_data_exception(exc: DBAPIError) -> bool:
    # asyncpg's errors arrive as a plain DBAPIError (only some are mapped to DataError); the
    # SQLSTATE tells them apart from a database that is down or a bug in a statement.
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return isinstance(code, str) and code.startswith(DATA_EXCEPTION_CLASS)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if isinstance(exc, DataError) or _is_data_exception(exc):
        return await _unstorable(request, exc)
    return await _unexpected(request, exc)


async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    """A value the database refuses (a NUL character, a number out of range): the input's fault.

    A backstop: the schemas refuse such input first (``kit.text.PlainText``)."""
    log.info("request %s: value refused by the database: %s", request.url.path, type(exc).__name__)
    return problem(
        422,
        "bad-input",
        "Invalid input",
        "a value cannot be stored (invalid characters or out of range)",
        instance=request.url.path,
    )


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(part) for part in error.get("loc", ())], "msg": str(error.get("msg", ""))}
        for error in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    detail = f"{'.'.join(first['loc'])}: {first['msg']}"
    return problem(
        422, "validation", "Invalid request", detail, instance=request.url.path, errors=errors
    )


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    slug = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(
        exc.status_code, "http-error"
    )
    return problem(
        exc.status_code, slug, str(exc.detail), instance=request.url.path, headers=headers
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        500, "internal", "Internal error", "an unexpected error occurred", instance=request.url.path
    )


PROBLEM_SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "ProblemDetail": {
        "title": "ProblemDetail",
        "description": (
            "An RFC 9457 problem (application/problem+json): every refusal and error of the API. "
            "``type`` names the kind (``/problems/<slug>``), ``detail`` says what to change, "
            "``errors`` lists the invalid fields of a validation problem."
        ),
        "type": "object",
        "properties": {
            "type": {"type": "string", "title": "Type", "examples": ["/problems/invalid-grid"]},
            "title": {"type": "string", "title": "Title"},
            "status": {"type": "integer", "title": "Status"},
            "detail": {"type": "string", "title": "Detail"},
            "instance": {"type": "string", "title": "Instance"},
            "errors": {
                "type": "array",
                "title": "Errors",
                "items": {"$ref": "#/components/schemas/ProblemFieldError"},
            },
        },
        "required": ["type", "title", "status"],
        "additionalProperties": True,
    },
    "ProblemFieldError": {
        "title": "ProblemFieldError",
        "description": "One invalid field of a validation problem: where it is and what is wrong.",
        "type": "object",
        "properties": {
            "loc": {"type": "array", "items": {"type": "string"}, "title": "Loc"},
            "msg": {"type": "string", "title": "Msg"},
        },
        "required": ["loc", "msg"],
    },
}
_PROBLEM_REF: Final = {"$ref": "#/components/schemas/ProblemDetail"}
_FRAMEWORK_SCHEMAS: Final = ("HTTPValidationError", "ValidationError")
"""FastAPI's own 422 body, which this API never sends (it answers a ``validation`` problem)."""


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {MEDIA_TYPE: {"schema": dict(_PROBLEM_REF)}}}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI ``schema`` (changed in place) with the problem body the API really sends: a
    ``ProblemDetail`` on each operation's 422 (instead of FastAPI's unused default) and on its
    other 4xx and 5xx answers, so a generated client types its errors."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            if "422" in responses:
                responses["422"] = _problem_response(
                    "Invalid request: a validation problem (its errors name the fields) or "
                    "input the API cannot use"
                )
            responses.setdefault("4XX", _problem_response("Refused: a problem says why"))
            responses.setdefault(
                "5XX", _problem_response("Unavailable or failed: a problem without internals")
            )
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in _FRAMEWORK_SCHEMAS:
        schemas.pop(name, None)
    schemas.update(PROBLEM_SCHEMAS)
    return schema


def _install_problem_document(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_problem_handlers(app: FastAPI) -> None:
    """The problem bodies of every error, and their schema in the app's OpenAPI document."""
    _install_problem_document(app)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(TradeBotError, _our_error)
    app.add_exception_handler(GridPlanError, _our_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
