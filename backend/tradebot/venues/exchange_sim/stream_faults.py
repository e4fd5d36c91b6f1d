"""Faults on the WebSocket streams: what happens to events between the exchange and a socket.

A rule picks events by ``channel`` (``market``: the public streams, ``user``: the user-data
stream), ``stream`` (a market stream name such as ``btcusdt@trade``) and ``api_key`` (whose
user-data events), and acts on them as its ``kind`` says:

- ``stall``: for ``seconds`` from now nothing is delivered (the socket stays open and answers
  pings; what the exchange emits meanwhile is lost, as behind a stuck gateway);
- ``drop``: the next ``count`` events are not delivered;
- ``duplicate``: the next ``count`` events are delivered twice;
- ``delay``: the next ``count`` events are delivered ``seconds`` late (later events overtake them);
- ``reorder``: the next ``count`` (>= 2) events are held, then delivered in a permutation drawn
  from ``seed`` that is never their own order (held until that many have come; clearing the
  faults delivers what is held, in order).

``drop``, ``duplicate`` and ``delay`` may instead act on each matching event with a
``probability`` drawn from the rule's own generator (seeded by ``seed``), without end unless a
``count`` is given too: a soak's steady background of faults. Every decision is a function of
the rule and the events' order, so a stepped test sees the same thing each run. Closing sockets
(``disconnect``) is an action, not a rule: ``StreamHub.disconnect``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tradebot.errors import BadInputError

Send = Callable[[str], None]


class Channel(StrEnum):
    MARKET = "market"
    USER = "user"


class StreamFaultKind(StrEnum):
    STALL = "stall"
    DROP = "drop"
    DUPLICATE = "duplicate"
    DELAY = "delay"
    REORDER = "reorder"


@dataclass(slots=True)
class StreamFaultRule:
    kind: StreamFaultKind
    channel: Channel | None = None
    stream: str | None = None
    api_key: str | None = None
    count: int | None = 1
    """Events still to act on; None: without end (a rule with a probability)."""
    seconds: float = 0.0
    seed: int = 0
    probability: float | None = None
    until: float = 0.0
    """Monotonic end of a stall."""
    fired: int = 0
    held: list[tuple[Send, str]] = field(default_factory=list, repr=False)
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def matches(self, channel: Channel, key: str) -> bool:
        """``key`` is the stream name of a market event, the API key of a user event."""
        if self.channel is not None and self.channel is not channel:
            return False
        if channel is Channel.MARKET:
            return self.stream is None or self.stream == key
        return self.api_key is None or self.api_key == key

    def active(self, now: float) -> bool:
        if self.kind is StreamFaultKind.STALL:
            return now < self.until
        return self.count is None or self.count > 0

    def fires(self) -> bool:
        """Whether this matching event is acted on (a draw, for a rule with a probability)."""
        return self.probability is None or self._rng.random() < self.probability

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "channel": None if self.channel is None else self.channel.value,
            "stream": self.stream,
            "api_key": self.api_key,
            "count": self.count,
            "seconds": self.seconds,
            "probability": self.probability,
            "fired": self.fired,
        }


_FIELDS = {"kind", "channel", "stream", "api_key", "count", "seconds", "seed", "probability"}
_MAY_DRAW = (StreamFaultKind.DROP, StreamFaultKind.DUPLICATE, StreamFaultKind.DELAY)


def stream_rule_from_json(data: Any, now: float) -> StreamFaultRule:
    """A stream fault rule from its JSON form (``now``: monotonic time a stall counts from)."""
    if not isinstance(data, dict):
        raise BadInputError("a stream fault rule must be a JSON object")
    unknown = set(data) - _FIELDS
    if unknown:
        raise BadInputError(f"unknown stream fault rule fields {sorted(unknown)}")
    try:
        kind = StreamFaultKind(str(data["kind"]))
        channel = None if data.get("channel") is None else Channel(str(data["channel"]))
        raw = data.get("probability")
        probability = None if raw is None else float(raw)
        raw = data.get("count", 1 if probability is None else None)
        count = None if raw is None else int(raw)
        seconds, seed = float(data.get("seconds", 0.0)), int(data.get("seed", 0))
    except KeyError:
        raise BadInputError("a stream fault rule needs a 'kind'") from None
    except (TypeError, ValueError) as exc:
        raise BadInputError(f"bad stream fault rule: {exc}") from None
    if probability is not None and (kind not in _MAY_DRAW or not 0 <= probability <= 1):
        raise BadInputError("probability must be within [0, 1], on drop, duplicate or delay")
    least = 2 if kind is StreamFaultKind.REORDER else 1
    if (count is None and probability is None) or (count is not None and count < least):
        raise BadInputError(f"count must be >= {least}")
    if seconds < 0 or (kind in (StreamFaultKind.STALL, StreamFaultKind.DELAY) and seconds == 0):
        raise BadInputError(f"a {kind.value} fault needs seconds > 0")
    return StreamFaultRule(
        kind,
        channel,
        stream=data.get("stream"),
        api_key=data.get("api_key"),
        count=count,
        seconds=seconds,
        seed=seed,
        probability=probability,
        until=now + seconds if kind is StreamFaultKind.STALL else 0.0,
    )


@dataclass(slots=True)
class StreamFaults:
    rules: list[StreamFaultRule] = field(default_factory=list)
    fired: Counter[str] = field(default_factory=Counter)
    disconnects: int = 0
    clock: Callable[[], float] = time.monotonic

    def add(self, data: list[Any]) -> None:
        now = self.clock()
        self.rules.extend(stream_rule_from_json(rule, now) for rule in data)

    def deliver(self, send: Send, channel: Channel, key: str, text: str) -> None:
        """Hand one event to ``send`` as the first active matching rule says."""
        now = self.clock()
        rule = next(
            (r for r in self.rules if r.active(now) and r.matches(channel, key) and r.fires()),
            None,
        )
        if rule is None:
            send(text)
            return
        rule.fired += 1
        self.fired[rule.kind.value] += 1
        if rule.kind in _MAY_DRAW and rule.count is not None:
            rule.count -= 1
        if rule.kind is StreamFaultKind.DUPLICATE:
            send(text)
            send(text)
        elif rule.kind is StreamFaultKind.DELAY:
            asyncio.get_running_loop().call_later(rule.seconds, send, text)
        elif rule.kind is StreamFaultKind.REORDER:
            rule.held.append((send, text))
            if len(rule.held) >= (rule.count or 0):  # a reorder always has a count
                rule.count = 0
                for target, held in _permuted(rule.held, rule.seed):
                    target(held)
                rule.held.clear()
        # stall and drop: the event is lost
        self.rules = [r for r in self.rules if r.active(now) or r.held]

    def clear(self) -> None:
        """Forget every rule; events a reorder still holds are delivered in order."""
        for rule in self.rules:
            for target, held in rule.held:
                target(held)
        self.rules.clear()

    def state(self) -> dict[str, Any]:
        now = self.clock()
        return {
            "rules": [r.describe() for r in self.rules if r.active(now) or r.held],
            "fired": dict(self.fired),
            "disconnects": self.disconnects,
        }


def _permuted(items: list[tuple[Send, str]], seed: int) -> list[tuple[Send, str]]:
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    if order == sorted(order):  # a shuffle may leave them in order: then reverse
        order.reverse()
    return [items[k] for k in order]
