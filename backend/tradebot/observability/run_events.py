"""What the run loop tells about itself, through a port free of any metrics library.

The run loop (``tradebot.runtime``) calls a ``RunObserver`` for each order it sends, each fill,
error and trip; the process decides once, at start, who listens (``observe_runs_with``): the
worker and ``tradebot run`` install the Prometheus observer (``observability.metrics``),
everything else (backtests, tests) keeps the silent default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class RunObserver(Protocol):
    """Events of one run (its client, run id and pair are fixed when it is made)."""

    def order_submitted(self, kind: str) -> None:
        """An order left for the venue (``kind``: limit or market)."""

    def order_acknowledged(self, seconds: float) -> None:
        """The venue answered a submission after ``seconds``."""

    def order_rejected(self) -> None: ...

    def orders_cancelled(self, count: int) -> None: ...

    def order_filled(self, side: str, seconds_since_submit: float | None) -> None:
        """An order completed; the time since it was sent, when this process sent it."""

    def venue_error(self, kind: str) -> None:
        """An error from the venue, by kind (its class: transient, rejected, fatal...)."""

    def guard_tripped(self, guard: str) -> None: ...

    def figures(self, *, pnl: float, grid_profit: float, open_orders: int) -> None:
        """The run's standing at a tick it handled: P&L marked at the price, realised grid
        profit, orders working."""

    def ended(self) -> None:
        """The run stopped in this process: its per-run series go away."""


class SilentObserver:
    """Hears everything, records nothing: the default of a process that serves no metrics."""

    def order_submitted(self, kind: str) -> None:
        pass

    def order_acknowledged(self, seconds: float) -> None:
        pass

    def order_rejected(self) -> None:
        pass

    def orders_cancelled(self, count: int) -> None:
        pass

    def order_filled(self, side: str, seconds_since_submit: float | None) -> None:
        pass

    def venue_error(self, kind: str) -> None:
        pass

    def guard_tripped(self, guard: str) -> None:
        pass

    def figures(self, *, pnl: float, grid_profit: float, open_orders: int) -> None:
        pass

    def ended(self) -> None:
        pass


SILENT = SilentObserver()

ObserverFactory = Callable[[str, str, str], RunObserver]
"""(client id, run id, pair) -> the observer of that run."""

_factory: ObserverFactory = lambda _client, _run, _pair: SILENT  # noqa: E731


def observe_runs_with(factory: ObserverFactory) -> None:
    """Every run started from now on in this process reports to ``factory``'s observers."""
    global _factory  # one listener per process, chosen at its start
    _factory = factory


def run_observer(client_id: str, run_id: str, pair: str) -> RunObserver:
    """The observer of one run, from the process's installed factory."""
    return _factory(client_id, run_id, pair)
