"""Guards: pure checks that decide when a run must stop. The kill switch is always on."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum


class Guard(StrEnum):
    RUN_LOSS = "max_run_loss"
    GLOBAL_DRAWDOWN = "max_global_drawdown"
    API_ERRORS = "max_api_errors"
    STALE_TICKER = "stale_ticker"
    KILL_SWITCH = "kill_switch"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    INVARIANT = "grid_invariant"
    KEY_PERMISSIONS = "key_permissions"
    VENUE = "venue_refused"
    """Authentication, permissions, an unlisted pair: the venue will not serve this run."""


@dataclass(frozen=True, slots=True)
class GuardThresholds:
    """Where each guard trips: the settings after the client's ``limits.guard`` overrides."""

    max_run_loss_usd: float
    max_global_drawdown_usd: float
    max_api_errors_per_min: int
    stale_ticker_ms: int


@dataclass(frozen=True, slots=True)
class Trip:
    guard: Guard
    reason: str


@dataclass(slots=True)
class ApiErrorWindow:
    """Errors in the last minute, by the run's clock."""

    errors: deque[int] = field(default_factory=deque)

    def add(self, ts: int) -> None:
        self.errors.append(ts)

    def count(self, now: int) -> int:
        while self.errors and self.errors[0] <= now - 60_000:
            self.errors.popleft()
        return len(self.errors)


def check_guards(
    thresholds: GuardThresholds,
    *,
    investment: float,
    equity: float,
    client_drawdown_usd: float,
    api_errors_last_min: int,
    ticker_age_ms: int,
) -> Trip | None:
    """The first guard the numbers break, or None."""
    loss = investment - equity
    if loss > thresholds.max_run_loss_usd:
        return Trip(
            Guard.RUN_LOSS,
            f"run loss {loss:.2f} exceeds MAX_RUN_LOSS_USD {thresholds.max_run_loss_usd:g}",
        )
    if client_drawdown_usd > thresholds.max_global_drawdown_usd:
        return Trip(
            Guard.GLOBAL_DRAWDOWN,
            f"drawdown {client_drawdown_usd:.2f} across the client's runs exceeds "
            f"MAX_GLOBAL_DRAWDOWN_USD {thresholds.max_global_drawdown_usd:g}",
        )
    if api_errors_last_min > thresholds.max_api_errors_per_min:
        return Trip(
            Guard.API_ERRORS,
            f"{api_errors_last_min} API errors in a minute exceed MAX_API_ERRORS_PER_MIN "
            f"{thresholds.max_api_errors_per_min}",
        )
    if ticker_age_ms > thresholds.stale_ticker_ms:
        return Trip(
            Guard.STALE_TICKER,
            f"no fresh price for {ticker_age_ms} ms (STALE_TICKER_MS {thresholds.stale_ticker_ms})",
        )
    return None
