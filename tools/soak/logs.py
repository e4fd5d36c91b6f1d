"""What the soak reads in its processes' JSON logs: 429s that reached a run's error budget, bans,
and how long each interruption of a run lasted.

Recovery of a run is measured from its interruption to its first tick afterwards (the
``run_ticking`` line a run logs once per start, when it has decided on its first tick: its book
reconciled, a price in hand); beside it, to the end of that tick, its orders answered
(``run_first_tick_done``: an order that times out at the exchange adds its timeout).
Interruptions: a ``tradebot run`` process started again (after a SIGKILL or a crash: from
that start); a worker SIGKILLed or crashed while it drove the run, a lost lease, or a retried
job (from that moment: another worker may take the run over without any restart).

The figure held to the target (``restart_ms``) is a SIGKILL's restart to the first tick: a run
process's start, or the start of the killed worker again (under its name it takes its runs
back); a run another worker took over before that restart counts from the kill. Beside it, the
same figure for the restarts the exchange never held: no 429 with its Retry-After (which holds
the whole IP, ``exchange_rate_limited``) fell between the restart and its first tick.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from tools.soak.report import SoakReport
from tools.soak.stream_chaos import LOG_EVENTS
from tools.soak.supervisor import Life, Managed, Supervisor
from tools.soak.tenants import WORKER, Driver, Tenant

DONE = "run_first_tick_done"
RATE_LIMITED = re.compile(r"\b(429|418)\b|-1003\b|-1015\b|request weight|IP banned")
_RETRIED = re.compile(r"run (\S+): transient failure")


@dataclass(frozen=True, slots=True)
class LogEvent:
    at: float
    """Wall-clock time, seconds since the epoch."""
    event: str
    fields: dict[str, Any]

    @property
    def run_id(self) -> str:
        return str(self.fields.get("run_id", ""))


def read_events(path: Path) -> list[LogEvent]:
    """The JSON lines of a log (tracebacks and other text are skipped)."""
    found = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            data = json.loads(line)
            at = datetime.fromisoformat(str(data["timestamp"])).timestamp()
        except (ValueError, KeyError):
            continue
        found.append(LogEvent(at, str(data.get("event", "")), data))
    return found


@dataclass(slots=True)
class Recovery:
    samples_ms: list[float] = field(default_factory=list)
    restart_ms: list[float] = field(default_factory=list)
    """After a SIGKILL or a crash: from the restart to the first tick."""
    restart_done_ms: list[float] = field(default_factory=list)
    """The same, to the end of that tick (its requests answered)."""
    held: list[tuple[float, float]] = field(default_factory=list)
    """When the exchange held the IP (a 429's Retry-After): (from, to), wall-clock seconds."""
    restart_unheld_ms: list[float] = field(default_factory=list)
    """``restart_ms`` of the restarts no such hold fell in."""
    restart_ours_ms: list[float] = field(default_factory=list)
    """Each restart's ``restart_ms`` less the time the exchange held the IP within it: the
    part no client could have shortened is out."""
    unrecovered: list[str] = field(default_factory=list)
    stalled: set[str] = field(default_factory=set)
    """Runs with an interruption they never recovered from."""


def _first_tick(
    events: Iterable[LogEvent], run_id: str, after: float, event: str = "run_ticking"
) -> float | None:
    ticks = [e.at for e in events if e.event == event and e.run_id == run_id]
    later = [at for at in ticks if at >= after]
    return min(later) if later else None


def _overlap(spans: list[tuple[float, float]], began: float, ended: float) -> float:
    """Seconds of ``began``..``ended`` that ``spans`` cover (overlapping spans counted once:
    every process that met a hold logs it)."""
    covered, reached = 0.0, began
    for start, end in sorted(spans):
        start, end = max(start, reached), min(end, ended)
        if end > start:
            covered += end - start
            reached = end
    return covered


def _measure(
    recovery: Recovery,
    run_id: str,
    what: str,
    since: float,
    ticked: float | None,
    restarted: float | None = None,
    done: float | None = None,
) -> None:
    """One interruption from ``since``; ``restarted``: when the killed process started again
    (the SIGKILL figure counts from there, if the run had not ticked before)."""
    if ticked is None:
        recovery.unrecovered.append(what)
        recovery.stalled.add(run_id)
        return
    recovery.samples_ms.append((ticked - since) * 1000)
    if restarted is not None:
        began = max(since, min(restarted, ticked))
        recovery.restart_ms.append((ticked - began) * 1000)
        held_s = _overlap(recovery.held, began, ticked)
        if held_s == 0:
            recovery.restart_unheld_ms.append((ticked - began) * 1000)
        recovery.restart_ours_ms.append((ticked - began - held_s) * 1000)
        if done is not None:
            recovery.restart_done_ms.append((done - began) * 1000)


def run_process_recovery(recovery: Recovery, managed: Managed, run_id: str) -> None:
    """From each restart of a run process to the first tick after it. Starts that die before
    they tick (killed again, or refused) belong to the same outage: it lasts from the first
    restart after the last tick to the next tick."""
    outage: float | None = None
    for life in managed.lives[1:]:
        outage = life.started if outage is None else outage
        events = read_events(life.log)
        ticked = _first_tick(events, run_id, life.started)
        if ticked is None and life.how in ("killed", "crash"):
            continue
        what = f"{managed.name} restarted at {outage:.0f}"
        done = _first_tick(events, run_id, life.started, DONE)
        _measure(recovery, run_id, what, outage, ticked, restarted=outage, done=done)
        outage = None


def worker_recovery(recovery: Recovery, workers: list[Managed], run_ids: list[str]) -> None:
    """Each worker-driven run's interruptions, until its first tick after each."""
    by_life = [(life, read_events(life.log)) for w in workers for life in w.lives]
    every = [e for _, events in by_life for e in events]
    next_start = {id(life): after.started for w in workers for life, after in pairwise(w.lives)}
    for run_id in run_ids:
        starts: list[tuple[float, str, float | None]] = []
        for life, events in by_life:
            ended = life.ended
            if (
                ended is not None
                and life.how in ("killed", "crash")
                and _drove(by_life, life, run_id, ended)
            ):
                what = f"worker {life.log.name} {life.how} with {run_id}"
                starts.append((ended, what, next_start.get(id(life), ended)))
            for e in events:
                if e.event == "lease_lost" and run_id in str(e.fields.get("lease", "")):
                    starts.append((e.at, f"{run_id} lost its lease", None))
                retried = _RETRIED.search(e.event)
                if retried is not None and retried.group(1) == run_id:
                    starts.append((e.at, f"{run_id} retried after a transient failure", None))
        for since, what, restarted in starts:
            ticked = _first_tick(every, run_id, since)
            done = _first_tick(every, run_id, since, DONE)
            _measure(recovery, run_id, what, since, ticked, restarted, done)


def _drove(by_life: list[tuple[Life, list[LogEvent]]], life: Life, run_id: str, at: float) -> bool:
    """Whether ``life`` drove the run at ``at``: its start there is the latest before."""
    latest: tuple[float, Life] | None = None
    for other, events in by_life:
        for e in events:
            ticked = e.event == "run_ticking" and e.run_id == run_id and e.at < at
            if ticked and (latest is None or e.at > latest[0]):
                latest = (e.at, other)
    return latest is not None and latest[1] is life


def rate_limited_errors(paths: Iterable[Path]) -> dict[str, int]:
    """``venue_error`` lines that carry an exchange 429/418, by run id."""
    counts: dict[str, int] = {}
    for path in paths:
        for e in read_events(path):
            if e.event == "venue_error" and RATE_LIMITED.search(str(e.fields.get("error", ""))):
                counts[e.run_id] = counts.get(e.run_id, 0) + 1
    return counts


def bans_logged(paths: Iterable[Path]) -> int:
    return sum(1 for path in paths for e in read_events(path) if e.event == "exchange_ip_banned")


def stream_failures(paths: Iterable[Path], since: float, until: float) -> Counter[str]:
    """The stream-failure events (``stream_chaos.LOG_EVENTS``) logged from ``since`` to
    ``until`` (wall-clock seconds), by event."""
    return Counter(
        e.event
        for path in paths
        for e in read_events(path)
        if e.event in LOG_EVENTS and since <= e.at < until
    )


def exchange_holds(paths: Iterable[Path]) -> list[tuple[float, float]]:
    """When a 429 told the IP to wait (``exchange_rate_limited``: its block, from when it was
    logged), in every log."""
    return sorted(
        (e.at, e.at + float(e.fields.get("blocked_s") or 0.0))
        for path in paths
        for e in read_events(path)
        if e.event == "exchange_rate_limited"
    )


def read_into(
    report: SoakReport,
    supervisor: Supervisor,
    tenants: list[Tenant],
    answered_418: int,
    faults: tuple[float, float],
) -> None:
    """Fill ``report`` from every log the soak's processes wrote (``faults``: when the fault
    phase began and ended, wall-clock seconds)."""
    paths = [life.log for m in supervisor.processes.values() for life in m.lives]
    report.stream_fallbacks = stream_failures(paths, *faults)
    report.stream_fallbacks_after = stream_failures(paths, faults[1], float("inf"))
    recovery = Recovery(held=exchange_holds(paths))
    for tenant in tenants:
        if tenant.driver is Driver.RUN:
            run_process_recovery(recovery, supervisor.processes[tenant.process], tenant.run_id)
    workers = [m for name, m in supervisor.processes.items() if name.startswith(WORKER)]
    pooled = [t.run_id for t in tenants if t.driver is Driver.WORKER]
    worker_recovery(recovery, workers, pooled)
    report.recovery_ms, report.unrecovered = recovery.samples_ms, recovery.unrecovered
    report.restart_ms, report.restart_done_ms = recovery.restart_ms, recovery.restart_done_ms
    report.restart_unheld_ms = recovery.restart_unheld_ms
    report.restart_ours_ms = recovery.restart_ours_ms
    report.stalled = recovery.stalled
    errors = rate_limited_errors(paths)
    report.rate_limited_errors = sum(errors.get(t.run_id, 0) for t in tenants)
    report.bans = max(answered_418, bans_logged(paths))
    report.crashes = sum(m.crashes for m in supervisor.processes.values())
