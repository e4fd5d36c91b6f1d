"""When a run has nothing to decide: the prices and times between which a tick changes nothing.

A worker drives a thousand runs on one pair's stream; visiting each at every tick costs the
whole fleet's time per tick, though most ticks cross no line of most runs. A run that says how
long it is ``Quiet`` is woken only by a tick that leaves its band (it crosses a resting order,
or comes near a loss guard), by a candle close once one is due (a snapshot, the regime
analysis, the take profit), or once ``wake_at`` has passed on the wall clock (so nothing waits
long: errors, the stream's owed fills). The feed then finds the woken runs with one vectorised
comparison (``workers.feed``).

A live run whose exchange tells it of its fills by stream is not woken by a price past its
resting orders (its ``lines``): it is woken by their fills, a moment later. Woken by the price
as well, each run of a crowd that one price crossed decided twice, the first time on nothing,
and the fills that followed waited behind those empty decisions. The feed notes the price it
slept through (the venue checks it against the fills it hears of) and wakes the run once the
stream's ``grace_ms`` is over, in case the fill was lost.
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
    """Wake at this wall-clock time (ms)."""
    lines: tuple[float, float] = (float("-inf"), float("inf"))
    """A price at or below the first or at or above the second does not wake the run: it is
    noted (``passed``), and the run woken ``grace_ms`` later."""
    grace_ms: int = 0


def lines(orders: Iterable[StoredOrder]) -> tuple[float, float]:
    """The highest resting buy and the lowest resting sell: a price past one may fill it."""
    buy, sell = float("-inf"), float("inf")
    for order in orders:
        if order.kind != "limit":
            continue
        if order.side is Side.BUY:
            buy = max(buy, order.price)
        else:
            sell = min(sell, order.price)
    return buy, sell


def guard_floor(
    *,
    quote: float,
    base: float,
    investment: float,
    peak: float,
    others_drawdown: float,
    thresholds: GuardThresholds,
) -> float:
    """The highest price at which the run's loss or its client's drawdown passes its limit.
    Equity is ``quote + base * price``, so each guard is a price."""
    if base <= 0:
        return float("-inf")
    loss = (investment - thresholds.max_run_loss_usd - quote) / base
    floor = peak - thresholds.max_global_drawdown_usd + others_drawdown
    return max(loss, (floor - quote) / base)


def wake_by(run_id: str, now: int) -> int:
    """The latest wall-clock time the run sleeps to: ``QUIET_MAX_MS`` less a jitter."""
    jitter = zlib.crc32(f"{run_id}:{now}".encode()) % (QUIET_MAX_MS // 2)
    return now + QUIET_MAX_MS - jitter
