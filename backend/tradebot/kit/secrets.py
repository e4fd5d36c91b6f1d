"""``Secret``: a string that never shows itself in a repr, a log line, an f-string or a trace."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, final

from tradebot.observability.logs import hold_secrets, release_secrets

MASK: Final = "***"


@final
class Secret:
    """Wraps a secret string; only ``reveal()`` gives it back, at the one place that needs it.

    Creating one does not mask the value in log lines: ``held`` does that, while an exchange
    client holds the revealed value (a library's debug output could print it), and only for
    values verified first (anything else a tenant types would blank words in every log line).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def last4(self) -> str:
        """The last 4 characters, the most of a key id we ever show (nothing for short values)."""
        return self._value[-4:] if len(self._value) >= 12 else ""

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    __hash__ = None  # type: ignore[assignment]  # equal secrets must not be told apart by hash

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __format__(self, _spec: str) -> str:
        return MASK

    def __reduce__(self) -> str | tuple[object, ...]:
        # Pickling would write the value into queues and caches; refuse instead.
        raise TypeError("a Secret cannot be pickled")


@contextmanager
def held(*secrets: Secret | None) -> Iterator[None]:
    """Mask ``secrets`` in every log line while the block runs (an exchange client holds them).

    Only for verified values (keys read back from storage, the exchange's check passed): never
    for input that was not checked yet.
    """
    values = hold_secrets(secret.reveal() for secret in secrets if secret is not None)
    try:
        yield
    finally:
        release_secrets(values)
