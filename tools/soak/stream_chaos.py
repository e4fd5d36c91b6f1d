"""The soak's faults on the exchange's WebSocket streams (the simulator's ``streams`` rules and
its ``/_sim/streams/disconnect``), drawn from the soak's seeded generator.

Scheduled, one at a time: a stall of the market or the user-data stream (the socket stays open
and says nothing: only the staleness of the prices, or a resting order the market traded
through without a fill, tells), a disconnect of either channel (a close frame or a dropped TCP
connection, and sometimes new sockets refused for a while: the stream is down and REST has to
stand in), and a burst of user events delivered out of order. Underneath, for the whole fault
phase, a background of user events dropped, duplicated and delayed at random: a fill may come
twice, late (after a newer one), or never by the stream.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from tools.soak.harness import sim_call

STREAM_KINDS = ("stream stall", "stream disconnect", "stream reorder")
STREAM_WEIGHTS = (2.0, 2.0, 1.0)
LOG_EVENTS = (
    "price_stream_down",
    "price_stream_stalled",
    "user_stream_down",
    "stream_fill_missing",
)
"""What a run logs when a stream fails it and REST stands in (the report counts them)."""


@dataclass(frozen=True, slots=True)
class StreamIntensity:
    gap_s: tuple[float, float] = (3.0, 7.0)
    """Seconds between scheduled stream faults."""
    stall_s: tuple[float, float] = (2.0, 9.0)
    """A stall's length: past the runs' 5 s staleness limit now and then, under it mostly."""
    refuse_s: tuple[float, float] = (1.0, 6.0)
    refuse_share: float = 0.4
    """The share of disconnects after which new sockets are refused for a while."""
    drop: float = 0.05
    duplicate: float = 0.1
    delay: float = 0.1
    delay_s: float = 1.5
    """The background's chance per user event of each fault, and how late a delayed one is."""


STREAMS = StreamIntensity()


def background(rng: random.Random, intensity: StreamIntensity) -> list[dict[str, Any]]:
    """The endless probabilistic faults of every account's user events."""
    return [
        {"kind": kind, "channel": "user", "probability": p, "seed": rng.randrange(1 << 30)}
        | ({"seconds": intensity.delay_s} if kind == "delay" else {})
        for kind, p in (
            ("drop", intensity.drop),
            ("duplicate", intensity.duplicate),
            ("delay", intensity.delay),
        )
    ]


def apply(
    sim_url: str, kind: str, rng: random.Random, keys: list[str], intensity: StreamIntensity
) -> tuple[str, str]:
    """Inject one scheduled stream fault; its name in the report, and what was sent (and
    answered) for the soak's log."""
    channel = rng.choice(["market", "user"])
    key = rng.choice([*keys, None]) if channel == "user" else None
    if kind == "stream stall":
        seconds = round(rng.uniform(*intensity.stall_s), 2)
        rule = {"kind": "stall", "channel": channel, "api_key": key, "seconds": seconds}
        sim_call(sim_url, "/_sim/faults", {"streams": [rule]})
        return f"stream stall ({channel})", str(rule)
    if kind == "stream disconnect":
        abrupt = rng.random() < 0.5
        refuse_s = round(rng.uniform(*intensity.refuse_s), 2)
        refuse_s = refuse_s if rng.random() < intensity.refuse_share else 0.0
        body = {"channel": channel, "api_key": key, "abrupt": abrupt, "refuse_s": refuse_s}
        closed = sim_call(sim_url, "/_sim/streams/disconnect", body)["closed"]
        how = ("abrupt" if abrupt else "clean") + (", refused" if refuse_s else "")
        return f"stream disconnect ({channel}, {how})", f"{body} closed {closed}"
    # A reorder of user events: a fill delivered after the newer one it preceded.
    rule = {"kind": "reorder", "channel": "user", "count": rng.randint(2, 3)}
    rule["seed"] = rng.randrange(1 << 30)
    sim_call(sim_url, "/_sim/faults", {"streams": [rule]})
    return "stream reorder (user)", str(rule)
