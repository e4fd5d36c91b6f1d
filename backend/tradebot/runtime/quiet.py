"""When a run has nothing to decide: the prices and times between which a tick changes nothing.

A worker drives a thousand runs on one pair's stream; visiting each at every tick costs the
whole fleet's time per tick, though most ticks cross no line of most runs. A run that says how
long it is ``Quiet`` is woken only by a tick that leaves its band (it crosses a resting order,
or comes near a loss guard), by a candle close once one is due (a snapshot, the regime
analysis, the take profit), or by any tick once ``wake_at`` has passed on the wall clock (so
nothing waits long: errors, the stream's owed fills). The feed then finds the woken runs with
one vectorised comparison (``workers.feed``).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from tradebot.engine.risk import GuardThresholds
from tradebot.engine.types import Side
from tradebot.runtime.store import StoredOrder

QUIET_MAX_MS = 10_000
"""The longest a run stays asleep, by the wall clock (a few seconds of jitter below it, so runs
woken by the same tick do not all wake again together)."""


@dataclass(frozen=True, slots=True)
class Quiet:
    below: float
    """Wake at a price at or below this."""
    above: float
    """Wake at a price at or above this."""
    close_after: int
    """Wake at a candle close at or after this (market) time."""
    wake_at: int
    """Wake at any tick that comes at or after this wall-clock time (ms)."""


def band(
    orders: Iterable[StoredOrder],
    *,
    quote: float,
    base: float,
    investment: float,
    peak: float,
    others_drawdown: float,
    thresholds: GuardThresholds,
) -> tuple[float, float]:
    """The prices between which nothing fills and no loss guard trips: the highest resting
    buy (and the prices where the run's loss or its client's drawdown would pass its limit),
    and the lowest resting sell. Equity is ``quote + base * price``, so each guard is a price."""
    below, above = float("-inf"), float("inf")
    for order in orders:
        if order.kind != "limit":
            continue
        if order.side is Side.BUY:
            below = max(below, order.price)
        else:
            above = min(above, order.price)
    if base > 0:
        below = max(below, (investment - thresholds.max_run_loss_usd - quote) / base)
        floor = peak - thresholds.max_global_drawdown_usd + others_drawdown
        below = max(below, (floor - quote) / base)
    return below, above


def wake_by(run_id: str, now: int) -> int:
    """The latest wall-clock time the run sleeps to: ``QUIET_MAX_MS`` less a jitter."""
    jitter = zlib.crc32(f"{run_id}:{now}".encode()) % (QUIET_MAX_MS // 2)
    return now + QUIET_MAX_MS - jitter
