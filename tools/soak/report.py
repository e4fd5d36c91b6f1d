"""The soak's result: one table of figures, and the targets it missed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from tools.soak.checks import Findings
from tools.soak.harness import percentile

RESTART_TARGET_MS = 5_000
"""Issue 21: after a SIGKILL, restart to the first tick, p99 (less the exchange's holds)."""


@dataclass(slots=True)
class SoakReport:
    seconds: float
    tenants: int
    workers: int
    findings: Findings = field(default_factory=Findings)
    audited_statements: int | None = None
    """Tenant-scoped statements the audit read (None: the server's log was not readable)."""
    cross_tenant_queries: list[str] = field(default_factory=list)
    rate_limited_errors: int = 0
    bans: int = 0
    simulator_429s: int = 0
    refused_connections: int = 0
    """New WebSocket connections the exchange refused (past 300 in 5 minutes per IP)."""
    weight_limit: int = 0
    peak_weight: int = 0
    requests_while_redis_down: int | None = None
    recovery_ms: list[float] = field(default_factory=list)
    restart_ms: list[float] = field(default_factory=list)
    """After a SIGKILL: the killed process's restart to the run's first tick (decided)."""
    restart_done_ms: list[float] = field(default_factory=list)
    restart_unheld_ms: list[float] = field(default_factory=list)
    restart_ours_ms: list[float] = field(default_factory=list)
    """``restart_ms`` less the time the exchange held the IP (429 Retry-After) within it."""
    """``restart_ms`` of the restarts no 429's Retry-After held."""
    """The same, to the end of that tick (its orders answered)."""
    unrecovered: list[str] = field(default_factory=list)
    stalled: set[str] = field(default_factory=set)
    """Runs that never recovered from an interruption."""
    faults: Counter[str] = field(default_factory=Counter)
    """Faults injected, by kind (stream faults' names start with "stream")."""
    stream_events_faulted: dict[str, int] = field(default_factory=dict)
    """User and market events the simulator's stream rules acted on, by kind."""
    sockets_closed: int = 0
    stream_fallbacks: Counter[str] = field(default_factory=Counter)
    """The runs' stream-failure log events (``stream_chaos.LOG_EVENTS``) while faults ran."""
    stream_fallbacks_after: Counter[str] = field(default_factory=Counter)
    """The same once the faults stopped and the market paused (settling)."""
    crashes: int = 0
    service_downtime_s: dict[str, float] = field(default_factory=dict)
    settle_s: float = 0.0
    settled: bool = False

    @property
    def lost_fills(self) -> int:
        """Trades a run that was trading again afterwards never recorded."""
        halted = self.stalled | self.findings.ended
        return sum(n for run, n in self.findings.unrecorded.items() if run not in halted)

    @property
    def awaiting_fills(self) -> int:
        """Trades of runs that stalled or ended in error (recorded once such a run resumes)."""
        halted = self.stalled | self.findings.ended
        return sum(n for run, n in self.findings.unrecorded.items() if run in halted)

    @property
    def cross_tenant(self) -> list[str]:
        return [*self.findings.cross_tenant, *self.cross_tenant_queries]

    def missed(self) -> list[str]:
        """The targets missed, one line each (empty: every target met)."""
        f = self.findings
        checks = [
            (f.duplicate_orders == 0, f"{f.duplicate_orders} duplicate orders"),
            (self.lost_fills == 0, f"{self.lost_fills} lost fills"),
            (f.phantom_fills == 0, f"{f.phantom_fills} recorded fills the exchange never made"),
            (not self.cross_tenant, f"cross-tenant effects: {self.cross_tenant[:3]}"),
            (self.bans == 0, f"{self.bans} bans (418) from the exchange"),
            (
                self.refused_connections == 0,
                f"{self.refused_connections} new WebSocket connections refused by the exchange",
            ),
            (
                not self.requests_while_redis_down,
                f"{self.requests_while_redis_down} requests passed the limiter with Redis down",
            ),
            (not self.unrecovered, f"runs that never recovered: {self.unrecovered[:3]}"),
            (not f.runs_ended, f"runs that ended in error: {f.runs_ended[:3]}"),
            (self.settled, f"not settled {self.settle_s:.0f} s after the faults stopped"),
        ]
        return [line for ok, line in checks if not ok]

    def rows(self) -> list[tuple[str, str]]:
        f = self.findings
        p50, p99 = percentile(self.recovery_ms, 0.5), percentile(self.recovery_ms, 0.99)
        r50, r99 = percentile(self.restart_ms, 0.5), percentile(self.restart_ms, 0.99)
        d50, d99 = percentile(self.restart_done_ms, 0.5), percentile(self.restart_done_ms, 0.99)
        u = self.restart_unheld_ms
        u50, u99 = percentile(u, 0.5), percentile(u, 0.99)
        o50, o99 = percentile(self.restart_ours_ms, 0.5), percentile(self.restart_ours_ms, 0.99)
        # Judged less the exchange's holds: a 429's Retry-After forbids every request of the
        # IP, and a restart must read its book before it decides; the whole figure is shown.
        restart_target = "met" if o99 <= RESTART_TARGET_MS else "MISSED"
        audit = "not read" if self.audited_statements is None else str(self.audited_statements)
        downtime = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(self.service_downtime_s.items()))
        streams = {k: n for k, n in self.faults.items() if k.startswith("stream")}
        others = {k: n for k, n in self.faults.items() if k not in streams}
        return [
            (
                "tenants / worker processes / seconds",
                f"{self.tenants} / {self.workers} / {self.seconds:.0f}",
            ),
            ("faults injected", _counts(others)),
            (f"stream faults injected ({sum(streams.values())})", _counts(streams)),
            (
                "stream events faulted / sockets closed",
                f"{_counts(self.stream_events_faulted)} / {self.sockets_closed}",
            ),
            ("stream failures logged during the faults", _counts(self.stream_fallbacks)),
            ("stream failures logged while settling", _counts(self.stream_fallbacks_after)),
            ("service restarts (time to answer again)", downtime or "none"),
            ("process crashes (restarted by the supervisor)", str(self.crashes)),
            ("orders submitted (exchange side)", str(f.orders_submitted)),
            ("orders filled in parts (exchange side)", str(f.filled_in_parts)),
            ("duplicate orders", str(f.duplicate_orders)),
            ("lost fills", str(self.lost_fills)),
            ("fills awaiting a stalled or failed run", str(self.awaiting_fills)),
            ("phantom fills", str(f.phantom_fills)),
            ("orders left in unknown state", str(f.unknown_orders)),
            ("books less the account at the end, quote / base (furthest run)", _drift(f.drift)),
            ("cross-tenant effects", str(len(self.cross_tenant))),
            ("tenant-scoped statements audited", audit),
            ("429s that reached a tenant's error budget", str(self.rate_limited_errors)),
            ("429s the exchange answered for weight", str(self.simulator_429s)),
            (
                "peak weight in a minute / the IP's limit",
                f"{self.peak_weight} / {self.weight_limit}",
            ),
            ("requests sent while Redis was down", str(self.requests_while_redis_down)),
            ("bans (418)", str(self.bans)),
            ("new WebSocket connections the exchange refused", str(self.refused_connections)),
            (
                "recoveries measured / never recovered",
                f"{len(self.recovery_ms)} / {len(self.unrecovered)}",
            ),
            ("recovery p50 / p99 (interruption to the first tick)", f"{p50:.0f} / {p99:.0f} ms"),
            (
                f"after a SIGKILL: restart to the first tick, p50 / p99 ({len(self.restart_ms)})",
                f"{r50:.0f} / {r99:.0f} ms",
            ),
            (
                "… to the end of that tick (its orders answered), p50 / p99",
                f"{d50:.0f} / {d99:.0f} ms",
            ),
            (
                f"… of the restarts no 429's Retry-After held, p50 / p99 ({len(u)})",
                f"{u50:.0f} / {u99:.0f} ms",
            ),
            (
                "… of every restart less the time a 429's Retry-After held the IP (no request "
                "may leave meanwhile), p50 / p99",
                f"{o50:.0f} / {o99:.0f} ms (target p99 <= {RESTART_TARGET_MS:,} ms: "
                f"{restart_target})",
            ),
            ("runs failed or tripped", str(len(f.runs_ended))),
            (
                "settled after the faults",
                f"{'yes' if self.settled else 'NO'} ({self.settle_s:.1f} s)",
            ),
        ]


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items()) if n) or "none"


def print_table(title: str, rows: list[tuple[str, str]], console: Console | None = None) -> None:
    table = Table(title=title, show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    (console or Console()).print(table)


def _drift(drift: Mapping[str, tuple[float, float]]) -> str:
    if not drift:
        return "none read"
    quote = max((q for q, _ in drift.values()), key=abs)
    base = max((b for _, b in drift.values()), key=abs)
    return f"{quote:+.4f} USDT / {base:+.8f} BTC"
