"""Structured JSON logs with secrets scrubbed from every event, ours and libraries' alike.

Two layers: keys whose name says "secret" are masked wherever they appear, and the secret
values an exchange client holds at the moment (a verified key and its secret, from the moment a
venue is given them until it is closed) are held here and replaced by ``***`` inside any string,
including ccxt's debug lines that print request headers. Standard-library loggers go through
the same processors.

The held values are counted (two runs of one key hold it twice: the first to stop does not
unmask the other's), bounded (``MAX_HELD_SECRETS``), and matched by a few Aho-Corasick
automata (groups merged as a binary counter, see ``_groups``): scrubbing a line costs a few
passes over it whatever the number of secrets, and holding one more rebuilds none of the big
groups. A value
is held only while in use and never from unverified input: a value a tenant merely typed (a
refused key such as ``"HTTP Request"``) would otherwise blank that text in every later line.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Final

import structlog
from ahocorasick_rs import AhoCorasick

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
MIN_SECRET_LENGTH: Final = 6
"""Shorter values are not masked inside text: they would blank common words and numbers."""
MAX_HELD_SECRETS: Final = 4096
"""Distinct values held at once: far above a process's open exchange clients (two or three
values each), low enough that the pattern stays small."""


class TooManySecretsError(RuntimeError):
    """More distinct secrets would be held than ``MAX_HELD_SECRETS``: a leak of holds."""


_held: Counter[str] = Counter()
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class _Group:
    """Values matched by one automaton (Aho-Corasick: one pass over a line finds them all)."""

    values: tuple[str, ...]
    automaton: AhoCorasick

    @classmethod
    def of(cls, values: Iterable[str]) -> _Group:
        ordered = tuple(values)
        return cls(ordered, AhoCorasick(ordered))


_groups: tuple[_Group, ...] = ()
"""The held values (and some released ones) in groups. Holding new values builds a group of
them, then merges groups of like size (a binary counter): a value is built into an automaton
O(log n) times over its life, where one automaton of all, rebuilt at every change, made a
thousand runs starting together build millions. A released value stays in its group, ignored,
until the group is rebuilt without it (once half of it is released). Swapped whole: a reader
never sees a half-built tuple."""
MERGE_RATIO: Final = 2
"""A group merges with the one before it while that one is at most this many times bigger."""


def _maskable(values: Iterable[str | None]) -> list[str]:
    return [value for value in values if value and len(value) >= MIN_SECRET_LENGTH]


def _added(new: set[str]) -> None:
    global _groups
    groups = [*_groups, _Group.of(new)]
    while len(groups) > 1 and len(groups[-2].values) <= MERGE_RATIO * len(groups[-1].values):
        merged = [v for g in groups[-2:] for v in g.values if v in _held]
        groups[-2:] = [_Group.of(merged)] if merged else []
    _groups = tuple(groups)


def _removed() -> None:
    """Groups half released are built again with what is still held."""
    global _groups
    groups = []
    for group in _groups:
        live = [v for v in group.values if v in _held]
        if 2 * len(live) > len(group.values):
            groups.append(group)
        elif live:
            groups.append(_Group.of(live))
    _groups = tuple(groups)


def hold_secrets(values: Iterable[str | None]) -> tuple[str, ...]:
    """Mask ``values`` in every log line until ``release_secrets`` gets them back.

    Returns the values actually held (empty and short ones are not), for the release.
    """
    held = _maskable(values)
    with _lock:
        new = {value for value in held if value not in _held}
        if len(_held) + len(new) > MAX_HELD_SECRETS:
            raise TooManySecretsError(
                f"more than {MAX_HELD_SECRETS} secrets held at once: holds are not released"
            )
        _held.update(held)
        if new:
            _added(new)
    return tuple(held)


def release_secrets(values: Iterable[str]) -> None:
    """Give back what ``hold_secrets`` returned: a value no one holds is no longer masked."""
    with _lock:
        gone = False
        for value in values:
            _held[value] -= 1
            if _held[value] <= 0:
                del _held[value]
                gone = True
        if gone:
            _removed()


def held_secret_count() -> int:
    """How many distinct values are masked now."""
    return len(_held)


_SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
"""The line SQLAlchemy adds to a failed statement's error: the values of a tenant's row."""


def scrub_text(text: str) -> str:
    text = _SQL_PARAMETERS.sub(f"[parameters: {MASK}]", text)
    ends: dict[int, int] = {}
    """Where a held value starts: where the longest one starting there ends."""
    for group in _groups:
        for index, start, end in group.automaton.find_matches_as_indexes(text, overlapping=True):
            if group.values[index] in _held and ends.get(start, start) < end:
                ends[start] = end
    if not ends:
        return text
    # Left to right, the longest value at each place: a secret that contains another is
    # masked whole, not around the shorter one.
    parts, cursor = [], 0
    for start in sorted(ends):
        if start >= cursor:
            parts += [text[cursor:start], MASK]
            cursor = ends[start]
    parts.append(text[cursor:])
    return "".join(parts)


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
"""The name of the root handlers ``configure_logging`` installs (found again by their name)."""


def bind_log_context(
    *, client_id: str | None = None, run_id: str | None = None, pair: str | None = None
) -> None:
    """Every later line of this task (and of the tasks it starts) carries these fields.

    Context variables: bound once where a run or a request begins, they follow it through
    every logger, ours and the standard library's, without being passed along.
    """
    fields = {"client_id": client_id, "run_id": run_id, "pair": pair}
    structlog.contextvars.bind_contextvars(**{k: v for k, v in fields.items() if v is not None})


def configure_logging(
    level: str = "INFO", *, json: bool = True, ingest_url: str | None = None
) -> None:
    """JSON lines on stderr for our loggers and the standard library's (ccxt, uvicorn...);
    with ``ingest_url``, the same lines POSTed there too (``log_shipping``)."""
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
        # Below the level, a line is dropped before any work (its redaction cost a thousand
        # runs' worker a tenth of a core for lines never written).
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
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
    handlers: list[logging.Handler] = [handler]
    if ingest_url:
        # Imported here: it loads the HTTP client and the metrics, which most commands skip.
        from tradebot.observability.log_shipping import WebhookLogHandler

        shipper = WebhookLogHandler(ingest_url)
        shipper.setFormatter(handler.formatter)
        shipper.set_name(HANDLER_NAME)
        handlers.append(shipper)
    root = logging.getLogger()
    for previous in root.handlers:
        if previous.get_name() == HANDLER_NAME:
            previous.close()  # a previous webhook's thread ends once what it holds is sent
    root.handlers[:] = handlers
    root.setLevel(level.upper())
    for noisy in ("alembic", "aiosqlite", "asyncio", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
