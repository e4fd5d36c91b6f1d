"""``Secret``: a string that never shows itself in a repr, a log line, an f-string or a trace."""

from __future__ import annotations

import hmac
from typing import Final, final

from tradebot.observability.logs import register_secret

MASK: Final = "***"


@final
class Secret:
    """Wraps a secret string; only ``reveal()`` gives it back, at the one place that needs it.

    Creating one also registers the value with the log scrubber, so even a line that got hold
    of the raw string (a library's debug output) prints ``***`` in its place.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)

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
