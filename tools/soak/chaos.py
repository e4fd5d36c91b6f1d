"""The faults of a soak: a seeded schedule drawn up front, applied as the clock reaches each.

Exchange faults are the simulator's rules (``/_sim/faults``), each good for a few requests:
5xx answers, timeouts (the answer held past the client's timeout, before or after the exchange
acted), orders accepted and then the connection dropped, garbled answers, 429 bursts, and a
visibility lag in which fresh orders answer "not found". Process faults are SIGKILLs of run
and worker processes, each started again after a short delay by the supervisor. Once each:
PostgreSQL stops and starts again (down ``postgres_down_s``, every connection dropped), and
Redis stops without saving and starts again empty (down ``redis_down_s``, while the exchange
counts the requests that still reach it: the shared rate limiter must fail closed). Service
outages run on a thread of their own, so the supervisor keeps restarting killed processes.
Stream faults (stalls, disconnects, reordered and a background of dropped, duplicated and
delayed user events) are ``stream_chaos``'s.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tools.soak import stream_chaos
from tools.soak.harness import sim_call
from tools.soak.services import Services
from tools.soak.stream_chaos import STREAM_KINDS, STREAM_WEIGHTS, STREAMS, StreamIntensity
from tools.soak.supervisor import Supervisor

KEY_CHECK = "GET /sapi/v1/account/apiRestrictions"
ORDER = ("/api/v3/order", "POST")
CANCEL = ("/api/v3/order", "DELETE")
READS = [
    ("/api/v3/order", "GET"),
    ("/api/v3/openOrders", "GET"),
    ("/api/v3/myTrades", "GET"),
    ("/api/v3/ticker/24hr", "GET"),
]


@dataclass(frozen=True, slots=True)
class Intensity:
    """How often faults come: seconds between exchange faults and between kills."""

    fault_gap_s: tuple[float, float] = (1.0, 3.0)
    run_kill_gap_s: tuple[float, float] = (8.0, 16.0)
    worker_kill_gap_s: tuple[float, float] = (15.0, 30.0)
    restart_delay_s: tuple[float, float] = (0.2, 2.0)
    lag_s: tuple[float, float] = (0.5, 2.5)
    postgres_down_s: float = 2.0
    redis_down_s: float = 3.0
    streams: StreamIntensity = STREAMS


FULL = Intensity()
SHORT = Intensity(
    (2.0, 4.0),
    (7.0, 9.0),
    (11.0, 13.0),
    (0.2, 1.0),
    (0.5, 1.5),
    postgres_down_s=1.0,
    redis_down_s=1.5,
    streams=StreamIntensity(gap_s=(2.0, 4.0)),
)


@dataclass(order=True, slots=True)
class Event:
    at: float
    kind: str = field(compare=False)
    target: str = field(default="", compare=False)


@dataclass(slots=True)
class Chaos:
    sim_url: str
    keys: list[str]
    """Every tenant's API key (exchange faults may aim at one tenant)."""
    runs: list[str]
    """Names of the run processes SIGKILLs may hit."""
    workers: list[str]
    supervisor: Supervisor
    services: Services
    timeout_s: float
    """The clients' request timeout: a held answer must outlast it."""
    rng: random.Random
    intensity: Intensity = FULL
    events: list[Event] = field(default_factory=list)
    applied: Counter[str] = field(default_factory=Counter)
    timeline: list[str] = field(default_factory=list)
    """What was applied when (wall-clock time), one line each, for the soak's log."""
    service_downtime_s: dict[str, float] = field(default_factory=dict)
    requests_while_redis_down: int | None = None
    """Requests the exchange received while the limiter's Redis was down (after a grace)."""
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1))
    _pending: list[Future[None]] = field(default_factory=list)

    def plan(self, seconds: float) -> None:
        """Draw the schedule of a ``seconds`` long soak."""
        rng, gaps = self.rng, self.intensity
        kinds = ["5xx", "timeout", "drop", "garbage", "lag", "429"]
        weights = [3.0, 2.0, 2.0, 1.0, 1.5, 1.5]
        events = [
            Event(t, rng.choices(kinds, weights)[0]) for t in self._times(gaps.fault_gap_s, seconds)
        ]
        for names, gap in (
            (self.runs, gaps.run_kill_gap_s),
            (self.workers, gaps.worker_kill_gap_s),
        ):
            if names:
                events += [Event(t, "kill", rng.choice(names)) for t in self._times(gap, seconds)]
        redis_at = rng.uniform(0.55, 0.8) * seconds
        events += [Event(rng.uniform(0.3, 0.45) * seconds, "postgres"), Event(redis_at, "redis")]
        events.append(Event(0.0, "stream background"))
        events += [
            Event(t, rng.choices(STREAM_KINDS, STREAM_WEIGHTS)[0])
            for t in self._times(gaps.streams.gap_s, seconds)
        ]
        self.events = sorted(events)

    def _times(self, gap: tuple[float, float], seconds: float) -> list[float]:
        times, t = [], self.rng.uniform(*gap) / 2
        while t < seconds:
            times.append(t)
            t += self.rng.uniform(*gap)
        return times

    def step(self, elapsed: float) -> None:
        """Apply every event due by ``elapsed`` seconds into the soak."""
        while self.events and self.events[0].at <= elapsed:
            event = self.events.pop(0)
            self._apply(event, elapsed)

    def _apply(self, event: Event, elapsed: float) -> None:
        self.timeline.append(f"{time.time():.3f} +{elapsed:6.2f}s {event.kind} {event.target}")
        if event.kind == "kill":
            delay = self.rng.uniform(*self.intensity.restart_delay_s)
            if self.supervisor.kill(event.target, delay):
                self.applied[f"SIGKILL {event.target.split('-')[0]}"] += 1
        elif event.kind in ("postgres", "redis"):
            outage = self._postgres_outage if event.kind == "postgres" else self._redis_outage
            self._pending.append(self._pool.submit(self._timed, event.kind, outage))
        elif event.kind == "lag":
            lag = round(self.rng.uniform(*self.intensity.lag_s), 2)
            sim_call(self.sim_url, "/_sim/faults", {"visibility_lag_s": lag})
            self.events.append(Event(elapsed + self.rng.uniform(2.0, 5.0), "lag-off"))
            self.events.sort()
            self.applied["not-found lag"] += 1
        elif event.kind == "lag-off":
            sim_call(self.sim_url, "/_sim/faults", {"visibility_lag_s": 0})
        elif event.kind == "stream background":
            rules = stream_chaos.background(self.rng, self.intensity.streams)
            sim_call(self.sim_url, "/_sim/faults", {"streams": rules})
            self.timeline[-1] += f" {rules}"
        elif event.kind in STREAM_KINDS:
            name, sent = stream_chaos.apply(
                self.sim_url, event.kind, self.rng, self.keys, self.intensity.streams
            )
            self.timeline[-1] += f" {sent}"
            self.applied[name] += 1
        else:
            rule = self._rule(event.kind)
            sim_call(self.sim_url, "/_sim/faults", {"rules": [rule]})
            self.timeline[-1] += f" {rule}"
            self.applied[event.kind] += 1

    def _timed(self, name: str, restart: Callable[[], None]) -> None:
        began = time.monotonic()
        restart()
        self.service_downtime_s[name] = time.monotonic() - began
        self.timeline.append(f"{time.time():.3f} {name} answers again")
        self.applied[f"{name} restart"] += 1

    def _postgres_outage(self) -> None:
        self.services.restart_postgres(self.intensity.postgres_down_s)

    def _redis_outage(self) -> None:
        """Redis down (emptied) for ``redis_down_s``: the exchange must see no request that
        the shared limiter did not admit, bar those already admitted (a short grace) and the
        key checks at a run's start, which do not go through the limiter."""
        self.services.stop_redis()
        time.sleep(0.5)
        before = _limited_requests(self.sim_url)
        time.sleep(self.intensity.redis_down_s)
        self.requests_while_redis_down = _limited_requests(self.sim_url) - before
        self.services.start_redis()

    def _rule(self, kind: str) -> dict[str, Any]:
        rng = self.rng
        key = rng.choice([*self.keys, None])
        rule: dict[str, Any] = {"kind": kind, "seed": rng.randrange(1 << 30)}
        if kind == "429":
            return {**rule, "count": rng.randint(2, 5), "retry_after_s": rng.randint(1, 2)}
        if kind == "drop":
            # The simulator's "fill" makes a resting limit trade at the last price, through its
            # limit, which no exchange does (a grid rightly trips on such a fill); an accepted
            # market order (the grid's entry) fills at once anyway.
            path, method = ORDER
            rule |= {"phase": "after", "count": 1}
        elif kind == "timeout":
            path, method = rng.choice([ORDER, ORDER, CANCEL, *READS[:2]])
            rule |= {"phase": rng.choice(["before", "after"]), "hold_s": self.timeout_s + 1}
            rule["count"] = rng.randint(1, 2)
        else:  # 5xx before the exchange acts or after; garbage after it did
            path, method = rng.choice([ORDER, ORDER, CANCEL, *READS])
            phase = "after" if kind == "garbage" else rng.choice(["before", "after"])
            rule |= {"phase": phase, "count": rng.randint(1, 4), "probability": 0.6}
        if path != "/api/v3/ticker/24hr":  # public: sent without a key
            rule["api_key"] = key
        return {**rule, "path": path, "method": method}

    def stop(self) -> None:
        """No more faults: the rules, the stream faults and the lag are cleared (user events
        a reorder still holds are delivered), service restarts are waited for (their errors
        raised) and anything still down is started."""
        self.events.clear()
        sim_call(self.sim_url, "/_sim/faults", method="DELETE")
        for pending in self._pending:
            pending.result()
        self._pool.shutdown()
        self.services.ensure_up()


def _limited_requests(sim_url: str) -> int:
    requests = sim_call(sim_url, "/_sim/state")["requests"]
    return sum(int(n) for name, n in requests.items() if name != KEY_CHECK)
