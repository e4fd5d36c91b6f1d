"""Value lists for a parameter sweep, from the command line's range syntax or a JSON config.

The syntax is a comma-separated list whose items are single values or inclusive ranges
``START:STOP:STEP``: ``90000:100000:2500`` is 90000, 92500, 95000, 97500, 100000, and
``20:60:20,100`` is 20, 40, 60, 100. Duplicates are dropped; the order given is kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

from tradebot.errors import BadInputError

RANGE_HELP = "a value, a list a,b,c or an inclusive range START:STOP:STEP (mixable: 1:5:2,10)"
MAX_VALUES = 10_000
"""More values than this for one parameter is a typo, not a sweep."""

T = TypeVar("T")


class RangeError(BadInputError):
    """A range or list that cannot be read; the message names the option."""


def _number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise RangeError(f"{name}: {text!r} is not a number ({RANGE_HELP})") from None
    if not math.isfinite(value):
        raise RangeError(f"{name}: {text!r} is not a finite number")
    return value


def _expand(name: str, item: str) -> list[float]:
    parts = item.split(":")
    if len(parts) == 1:
        return [_number(name, parts[0])]
    if len(parts) != 3:
        raise RangeError(f"{name}: bad range {item!r} (use START:STOP:STEP)")
    start, stop, step = (_number(name, p) for p in parts)
    if step <= 0:
        raise RangeError(f"{name}: range step must be > 0 in {item!r}")
    if stop < start:
        raise RangeError(f"{name}: range {item!r} runs backwards (STOP below START)")
    # The epsilon keeps 0.3/0.1 = 2.9999999 from dropping the inclusive end to float noise.
    count = math.floor((stop - start) / step + 1e-9) + 1
    if count > MAX_VALUES:
        raise RangeError(f"{name}: range {item!r} has {count} values (at most {MAX_VALUES})")
    return [round(start + k * step, 10) for k in range(count)]


def _unique(values: Sequence[T]) -> list[T]:
    return list(dict.fromkeys(values))


def parse_floats(name: str, text: str) -> list[float]:
    """Numbers from ``text`` in the range syntax; ``name`` (e.g. ``--lower``) starts each error."""
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        raise RangeError(f"{name}: empty value in {text!r} ({RANGE_HELP})")
    values: list[float] = []
    for item in items:
        values.extend(_expand(name, item))
    if len(values) > MAX_VALUES:
        raise RangeError(f"{name}: {len(values)} values (at most {MAX_VALUES})")
    return _unique(values)


def parse_ints(name: str, text: str) -> list[int]:
    """Whole numbers in the range syntax (line counts)."""
    values = parse_floats(name, text)
    for value in values:
        if value != int(value):
            raise RangeError(f"{name}: {value:g} is not a whole number")
    return _unique([int(v) for v in values])


def parse_choices(name: str, text: str, choices: Sequence[str]) -> list[str]:
    """A comma-separated list of names, each one of ``choices``."""
    values = [item.strip().lower() for item in text.split(",")]
    for value in values:
        if value not in choices:
            raise RangeError(f"{name}: unknown value {value!r} (choose from {', '.join(choices)})")
    return _unique(values)


def values_from_json(name: str, value: object, parse: Callable[[str, str], list[T]]) -> list[T]:
    """A config's sweep value: a range string, one number, or a list of numbers or names."""
    if isinstance(value, str):
        return parse(name, value)
    if isinstance(value, bool):
        raise RangeError(f"{name}: expected a number, a list or a range string (got {value!r})")
    if isinstance(value, int | float):
        return parse(name, repr(value))
    if isinstance(value, list) and value:
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int | float | str):
                raise RangeError(f"{name}: list items must be numbers or names (got {item!r})")
        return parse(name, ",".join(str(item) for item in value))
    raise RangeError(
        f"{name}: expected a number, a non-empty list or a range string (got {value!r})"
    )
