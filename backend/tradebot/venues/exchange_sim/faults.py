"""Fault injection: rules that make matching requests fail, and two market-wide switches.

A rule picks requests by path, method and API key, fires for its next ``count`` matches or with
a ``probability`` drawn from its own seeded generator, and applies its ``kind`` either
``before`` the request reaches the exchange (nothing happens there) or ``after`` it was
processed (the order exists, only the answer is lost or spoiled):

- ``5xx``: an HTTP ``status`` (default 503) with a gateway's non-JSON body;
- ``timeout``: hold the answer ``hold_s`` seconds (longer than the client waits);
- ``drop``: close the connection without an answer;
- ``garbage``: 200 with truncated JSON;
- ``429``: Binance's rate-limit answer with ``Retry-After: retry_after_s`` (before only).

``fill`` on a rule that matches an order POST makes the accepted order trade at once.
Switches: ``stale`` freezes the public market data where it is (matching goes on, the market
streams fall silent); ``visibility_lag_s`` hides new orders from queries (-2013) for that many
seconds. Faults on the WebSocket streams (stall, drop, duplicate, delay, reorder) are
``stream_faults``' rules, kept here beside these.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tradebot.errors import BadInputError
from tradebot.venues.exchange_sim.stream_faults import StreamFaults


class FaultKind(StrEnum):
    STATUS_5XX = "5xx"
    TIMEOUT = "timeout"
    DROP = "drop"
    GARBAGE = "garbage"
    RATE_LIMIT = "429"


class Phase(StrEnum):
    BEFORE = "before"
    AFTER = "after"


@dataclass(slots=True)
class FaultRule:
    kind: FaultKind
    phase: Phase = Phase.BEFORE
    path: str | None = None
    method: str | None = None
    api_key: str | None = None
    count: int | None = 1
    """Fire on this many more matches; None with a probability = without end."""
    probability: float | None = None
    seed: int = 0
    status: int = 503
    hold_s: float = 30.0
    retry_after_s: int = 1
    fill: bool = False
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        if self.kind is FaultKind.RATE_LIMIT and self.phase is Phase.AFTER:
            raise BadInputError("a 429 fault can only come before the request is processed")
        if self.probability is not None and not 0 <= self.probability <= 1:
            raise BadInputError(f"probability must be within [0, 1] (got {self.probability})")
        if not 500 <= self.status <= 599:
            raise BadInputError(f"status must be a 5xx code (got {self.status})")

    def matches(self, method: str, path: str, api_key: str | None) -> bool:
        return (
            (self.path is None or self.path == path)
            and (self.method is None or self.method.upper() == method)
            and (self.api_key is None or self.api_key == api_key)
        )

    def fire(self) -> bool:
        """Decide whether this matching request fails (and use up one count if so)."""
        if self.count is not None and self.count <= 0:
            return False
        if self.probability is not None and self._rng.random() >= self.probability:
            return False
        if self.count is not None:
            self.count -= 1
        self.fired += 1
        return True

    @property
    def spent(self) -> bool:
        return self.count is not None and self.count <= 0

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "phase": self.phase.value,
            "path": self.path,
            "method": self.method,
            "api_key": self.api_key,
            "count": self.count,
            "probability": self.probability,
            "fired": self.fired,
            "fill": self.fill,
        }


_RULE_FIELDS = {
    "kind",
    "phase",
    "path",
    "method",
    "api_key",
    "count",
    "probability",
    "seed",
    "status",
    "hold_s",
    "retry_after_s",
    "fill",
}


def rule_from_json(data: Any) -> FaultRule:
    """A rule from its JSON form; a bad field is one BadInputError line."""
    if not isinstance(data, dict):
        raise BadInputError("a fault rule must be a JSON object")
    unknown = set(data) - _RULE_FIELDS
    if unknown:
        raise BadInputError(f"unknown fault rule fields {sorted(unknown)}")
    try:
        kind = FaultKind(str(data["kind"]))
        phase = Phase(str(data.get("phase", "before")))
        count = data.get("count", 1 if data.get("probability") is None else None)
        return FaultRule(
            kind,
            phase,
            path=data.get("path"),
            method=data.get("method"),
            api_key=data.get("api_key"),
            count=None if count is None else int(count),
            probability=None if data.get("probability") is None else float(data["probability"]),
            seed=int(data.get("seed", 0)),
            status=int(data.get("status", 503)),
            hold_s=float(data.get("hold_s", 30.0)),
            retry_after_s=int(data.get("retry_after_s", 1)),
            fill=bool(data.get("fill", False)),
        )
    except KeyError:
        raise BadInputError("a fault rule needs a 'kind'") from None
    except (TypeError, ValueError) as exc:
        raise BadInputError(f"bad fault rule: {exc}") from None


@dataclass(slots=True)
class FaultBook:
    rules: list[FaultRule] = field(default_factory=list)
    stale: bool = False
    visibility_lag_s: float = 0.0
    fired: Counter[str] = field(default_factory=Counter)
    """Faults applied so far, by kind (spent rules are gone from ``rules``)."""
    streams: StreamFaults = field(default_factory=StreamFaults)

    def pick(self, method: str, path: str, api_key: str | None) -> FaultRule | None:
        """The first matching rule that fires for this request; spent rules are dropped."""
        chosen = next(
            (r for r in self.rules if r.matches(method, path, api_key) and r.fire()), None
        )
        self.rules = [r for r in self.rules if not r.spent]
        if chosen is not None:
            self.fired[chosen.kind.value] += 1
        return chosen

    def clear(self) -> None:
        self.rules.clear()
        self.stale = False
        self.visibility_lag_s = 0.0
        self.streams.clear()

    def state(self) -> dict[str, Any]:
        return {
            "rules": [r.describe() for r in self.rules],
            "stale": self.stale,
            "visibility_lag_s": self.visibility_lag_s,
            "fired": dict(self.fired),
            "streams": self.streams.state(),
        }
