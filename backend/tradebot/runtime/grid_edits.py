"""A running grid edited by its client: the run loop's port for the edits, and the edit itself.

The API records an edit (new range and lines) as a run request; the run loop takes it at a
tick and moves its grid the way a regime re-centre does: ``edited_config`` is the new grid
(same spacing, fees and take profit; everything the run holds at the price invested, so its
balances carry over), ``GridStrategy.recentre`` puts the empty line at the price, and the book
sync cancels and places the difference, buying at market whatever base the new sells need.
The API's preview computes the same three steps, so what the user confirmed is what happens.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol

from tradebot.engine.types import GridConfig


@dataclass(frozen=True, slots=True)
class GridEdit:
    """A new range and number of lines for a running grid (``request_id``: its record)."""

    request_id: int
    lower: float
    upper: float
    lines: int


class GridEdits(Protocol):
    """Where a run loop finds the edits of its grid (``runs.grid_edit.SqlGridEdits``)."""

    async def take(self) -> GridEdit | None:
        """The newest edit not yet taken (older ones are superseded), marked taken."""
        ...

    async def applied(self, edit: GridEdit, config: GridConfig) -> None:
        """The run trades ``config`` now."""
        ...

    async def refused(self, edit: GridEdit, reason: str) -> None:
        """The edit could not be applied (``reason``: the plan's one line)."""
        ...


def edited_config(
    current: GridConfig, *, lower: float, upper: float, lines: int, equity: float
) -> GridConfig:
    """``current`` with the new range and lines, investing ``equity`` (the run's quote and
    base at the price), as a regime re-centre invests it."""
    return dataclasses.replace(current, lower=lower, upper=upper, lines=lines, investment=equity)
