"""``PlainText``: a string without control characters, for every field a person types.

NUL cannot be stored by PostgreSQL (its error was a 500), CR/LF split log lines and HTTP
headers (an exchange key with ``\\r\\n`` broke the request to the exchange), and no name,
reason, key or filter needs any of them. Refused at the schema: a 422 problem body naming the
field, and the pattern is in the OpenAPI.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import SecretStr, StringConstraints

CONTROL_CHARACTERS: Final = r"\x00-\x1f\x7f-\x9f"
"""Unicode category Cc: C0 (NUL, tab, CR, LF...), DEL and C1."""
NO_CONTROL_CHARACTERS: Final = rf"^[^{CONTROL_CHARACTERS}]*$"
_CONTROL = re.compile(rf"[{CONTROL_CHARACTERS}]")

PlainText = Annotated[str, StringConstraints(pattern=NO_CONTROL_CHARACTERS)]
"""A ``str`` field or parameter that refuses control characters (422)."""


def has_control_characters(value: str) -> bool:
    return _CONTROL.search(value) is not None


def plain_secret(value: SecretStr | None) -> SecretStr | None:
    """``value`` when it holds no control character; ``ValueError`` (never echoing it) if not.

    For ``SecretStr`` fields, whose validation runs after the value is wrapped."""
    if value is not None and has_control_characters(value.get_secret_value()):
        raise ValueError("control characters (NUL, CR, LF...) are not allowed")
    return value
