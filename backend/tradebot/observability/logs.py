"""Structured JSON logs with secrets scrubbed from every event, ours and libraries' alike.

Two layers: keys whose name says "secret" are masked wherever they appear, and every secret
value the process holds (exchange keys and secrets once decrypted, the master key) is
registered here and replaced by ``***`` inside any string, including ccxt's debug lines that
print request headers. Standard-library loggers go through the same processors.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

MASK = "***"
SENSITIVE_KEYS = frozenset(
    {
        "api_key",
        "apikey",
        "api_secret",
        "secret",
        "secret_key",
        "password",
        "passphrase",
        "signature",
        "authorization",
        "x-mbx-apikey",
        "master_key",
        "client_master_key",
        "token",
        "access_token",
        "private_key",
        "stripe-signature",
    }
)
_MIN_SECRET_LENGTH = 6
_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret value so it is masked in every later log line."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def scrub_text(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {
            k: MASK if str(k).lower() in SENSITIVE_KEYS else _scrub(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    if isinstance(value, BaseException):
        return scrub_text(repr(value))
    return value


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask sensitive keys and registered secret values."""
    for key in list(event):
        if key.lower() in SENSITIVE_KEYS:
            event[key] = MASK
        else:
            event[key] = _scrub(event[key])
    return event


def _scrub_rendered(_logger: Any, _method: str, event: Any) -> Any:
    # Last line of defence: a secret that slipped into an exception traceback or a repr.
    return scrub_text(event) if isinstance(event, str) else event


HANDLER_NAME = "tradebot"
"""The name of the root handler ``configure_logging`` installs (found again by its name)."""


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    """JSON lines on stderr for our loggers and the standard library's (ccxt, uvicorn...)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a logger follows the configuration of the moment (a process that
        # reconfigures, a test capturing logs after another configured them).
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
                _scrub_rendered,
            ],
        )
    )
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("alembic", "aiosqlite", "asyncio", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
