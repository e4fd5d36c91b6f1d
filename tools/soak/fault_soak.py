"""The multi-tenant fault soak of ``make soak``: several tenants trading live, for a bounded
time, against one exchange simulator that replays the market in real time, through faults.

Every tenant has its own simulator account and grid. Half of them (even indexes) are driven by
a ``tradebot run`` process each, the others by a pool of ``tradebot worker`` processes; all go
through real ccxt and the shared Redis rate limiter (not sandbox-stepped), and all leave from
one IP, whose request weight the simulator caps low enough for the shared limiter to matter.
``chaos`` injects the faults. Then the faults stop, the market pauses, every run reconciles
until the exchange and the database agree (``Ledger.settled``), the processes are stopped
with SIGTERM, and ``Ledger.findings``, the logs and the tenancy audit fill one report.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import random
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis

from tools.soak import logs
from tools.soak.audit import TenancyAudit
from tools.soak.chaos import FULL, SHORT, Chaos, Intensity
from tools.soak.checks import Ledger
from tools.soak.harness import base_env, run_command, sim_call
from tools.soak.report import SoakReport
from tools.soak.services import Services, throwaway_database
from tools.soak.supervisor import Supervisor
from tools.soak.tenants import (
    MARKET,
    WORKER,
    Driver,
    Tenant,
    enrol,
    make_tenants,
    sim_accounts,
)
from tradebot.candles.io import bundled, load_candles
from tradebot.migrations import upgrade
from tradebot.venues.exchange_sim import LimitsConfig, SimConfig, SimThread

FIRST_CANDLE = 2000
"""2024-12-02 09:20 UTC in the bundled week: hours of back-and-forth in the tenants' range."""
HISTORY = 720
"""Candles before it, so the runs' regime analysis has its 12 hours."""
LEASE_S = 5.0


@dataclass(frozen=True, slots=True)
class SoakConfig:
    seconds: float = 120.0
    tenants: int = 4
    workers: int = 2
    speed: float = 60.0
    """The replay's speed: 60 walks one 1-minute candle per second."""
    weight_per_tenant: int = 900
    """The IP's request weight per minute on the simulator, per tenant."""
    seed: int = 0
    private_services: bool = False
    intensity: Intensity = FULL
    settle_timeout_s: float = 90.0
    poll_ms: int = 500
    timeout_ms: int = 2500
    grace_ms: int = 4000
    fill_share: float = 0.0002
    """The simulator's partial fills: a segment's crossed orders of an account may take this
    share of its volume. The bundled week trades ~5 BTC a segment (a third of a minute), the
    tenants' orders are ~0.001-0.002 BTC: at this share most fill in two or more trades."""
    log_dir: Path | None = None

    @classmethod
    def short(cls, **changes: object) -> SoakConfig:
        """The 20-second soak of ``make test``: two tenants, fewer faults, private services
        (the machine's are shared with the other tests)."""
        values: dict[str, object] = {
            "seconds": 20.0,
            "tenants": 2,
            "private_services": True,
            "intensity": SHORT,
            **changes,
        }
        return cls(**values)  # type: ignore[arg-type]


@dataclass(slots=True)
class _Run:
    config: SoakConfig
    services: Services
    database_url: str
    tenants: list[Tenant]
    tag: str
    supervisor: Supervisor
    master_key: str = field(
        default_factory=lambda: base64.b64encode(secrets.token_bytes(32)).decode()
    )
    report: SoakReport = field(init=False)

    def __post_init__(self) -> None:
        c = self.config
        self.report = SoakReport(c.seconds, c.tenants, c.workers)
        self.report.weight_limit = c.weight_per_tenant * c.tenants

    def env(self, **extra: str) -> dict[str, str]:
        c, tag = self.config, self.tag
        return (
            base_env(
                self.database_url,
                self.master_key,
                REDIS_URL=self.services.redis_url,
                REDIS_PREFIX=f"tradebot-soak-{tag}",
                RUN_QUEUE_NAME=f"tradebot-soak-{tag}-runs",
                EGRESS_IP=f"soak-{tag}",
                RATE_LIMIT_WEIGHT_PER_MIN=str(c.weight_per_tenant * c.tenants),
                RATE_LIMIT_TENANT_SHARE_PCT=str(min(100.0, 150.0 / c.tenants)),
                ORDER_POLL_INTERVAL_MS=str(c.poll_ms),
                EXCHANGE_TIMEOUT_MS=str(c.timeout_ms),
                NOT_FOUND_GRACE_MS=str(c.grace_ms),
                MAX_API_ERRORS_PER_MIN="100000",  # faults are the point: counted, never tripping
                LOG_LEVEL="INFO",
            )
            | extra
        )


class FaultSoak:
    def __init__(self, config: SoakConfig) -> None:
        self.config = config

    def run(self) -> SoakReport:
        c = self.config
        log_dir = c.log_dir or Path(tempfile.mkdtemp(prefix="tradebot-soak-logs-"))
        log_dir.mkdir(parents=True, exist_ok=True)
        with throwaway_database(private=c.private_services, log_statements=True) as (
            services,
            database,
        ):
            url = services.pg_url(database)
            upgrade(url)
            tag = secrets.token_hex(3)
            run = _Run(c, services, url, make_tenants(c.tenants, tag), tag, Supervisor(log_dir))
            audit = TenancyAudit(services.statement_log(), database, run.tenants)
            try:
                self._soak(run)
            finally:
                run.supervisor.close()
                keys = _forget_keys(services, tag)
                (log_dir / "redis-keys.log").write_text("".join(f"{k}\n" for k in keys))
            result = audit.run()
            run.report.audited_statements = result.scoped_statements if result.readable else None
            run.report.cross_tenant_queries = result.violations
            report = run.report
            found = report.findings
            lines = [*found.details, *found.runs_ended, *report.cross_tenant, *report.unrecovered]
            (log_dir / "findings.log").write_text("".join(f"{line}\n" for line in lines))
            print(f"soak logs: {log_dir}", file=sys.stderr)
            return report

    def _soak(self, run: _Run) -> None:
        c, report = self.config, run.report
        candles = math.ceil(c.seconds * c.speed / 60) + 60
        week = load_candles(bundled())
        sim_config = SimConfig(
            candles=week.slice(FIRST_CANDLE - HISTORY, FIRST_CANDLE + candles),
            accounts=sim_accounts(run.tenants),
            market=MARKET,
            limits=LimitsConfig(weight_limit=c.weight_per_tenant * c.tenants),
            start_index=HISTORY,
            fill_share=c.fill_share,
        )
        with SimThread(sim_config) as sim:
            env = run.env()
            asyncio.run(
                enrol(
                    run.tenants,
                    run.database_url,
                    run.master_key,
                    sim.url,
                    run.services.redis_url,
                    env["RUN_QUEUE_NAME"],
                )
            )
            ledger = Ledger(run.database_url, sim.url, run.tenants)
            chaos = self._start(run, env, sim.url)
            try:
                self._warm_up(run, ledger)
                sim_call(sim.url, "/_sim/clock", {"speed": c.speed})
                began = time.time()
                asked = sim_call(sim.url, "/_sim/state")["requests"]
                self._fault_phase(run, chaos, ledger)
                window = (began, time.time())
                _requests_during(run.supervisor.log_dir, sim.url, asked)
                self._settle(run, chaos, ledger, sim.url)
                run.supervisor.terminate_all()
                report.findings = ledger.findings()
                report.peak_weight = ledger.peak_weight
                ledger.dump(run.supervisor.log_dir)
                state = sim_call(sim.url, "/_sim/state")
            finally:
                ledger.close()
                journal = [*run.supervisor.describe(), *chaos.timeline]
                (run.supervisor.log_dir / "soak.log").write_text("\n".join(sorted(journal)) + "\n")
        limits, streams = state["limits"], state["faults"]["streams"]
        report.simulator_429s = int(limits["answered_429"])
        report.refused_connections = int(limits["refused_connections"])
        report.stream_events_faulted = {k: int(n) for k, n in streams["fired"].items()}
        report.sockets_closed = int(streams["disconnects"])
        logs.read_into(report, run.supervisor, run.tenants, int(limits["answered_418"]), window)

    def _start(self, run: _Run, env: dict[str, str], sim_url: str) -> Chaos:
        supervisor, runs, workers, tag = run.supervisor, [], [], run.tag
        for tenant in run.tenants:
            if tenant.driver is Driver.RUN:
                command = run_command(tenant.run_id, sim_url, step=False)
                own = env | {"CLIENT_ID": tenant.client} | tenant.grid_env()
                supervisor.add(tenant.process, command, own)
                runs.append(tenant.process)
        for i in range(self.config.workers):
            command = [sys.executable, "-m", "tradebot.cli.main", "worker"]
            command += ["--sandbox-url", sim_url, "--lease-seconds", str(LEASE_S)]
            # Named as a pod is: restarted after a SIGKILL, it takes its runs back at once.
            supervisor.add(f"{WORKER}{i}", command, env | {"WORKER_NAME": f"{WORKER}{i}-{tag}"})
            workers.append(f"{WORKER}{i}")
        c = self.config
        chaos = Chaos(
            sim_url,
            [t.key for t in run.tenants],
            runs,
            workers,
            supervisor,
            run.services,
            c.timeout_ms / 1000,
            random.Random(c.seed),
            c.intensity,
        )
        chaos.plan(c.seconds)
        return chaos

    def _warm_up(self, run: _Run, ledger: Ledger, timeout_s: float = 180.0) -> None:
        """Until every tenant's grid rests on the exchange (the market paused meanwhile)."""
        deadline = time.monotonic() + timeout_s
        while not ledger.trading():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the tenants' runs did not start within {timeout_s:.0f} s")
            run.supervisor.poll()
            time.sleep(0.2)

    def _fault_phase(self, run: _Run, chaos: Chaos, ledger: Ledger) -> None:
        began, next_sample = time.monotonic(), 0.0
        while (elapsed := time.monotonic() - began) < self.config.seconds:
            chaos.step(elapsed)
            run.supervisor.poll()
            if elapsed >= next_sample:
                ledger.sample()
                next_sample = elapsed + 1.0
            time.sleep(0.05)

    def _settle(self, run: _Run, chaos: Chaos, ledger: Ledger, sim_url: str) -> None:
        """Faults off, market paused, services up: wait until every run has caught up."""
        chaos.stop()
        report = run.report
        report.faults = chaos.applied
        report.service_downtime_s = chaos.service_downtime_s
        report.requests_while_redis_down = chaos.requests_while_redis_down
        sim_call(sim_url, "/_sim/clock", {"speed": 0})
        began, agreed_since = time.monotonic(), None
        while time.monotonic() - began < self.config.settle_timeout_s:
            run.supervisor.poll()
            ledger.sample()
            if not ledger.settled():
                agreed_since = None
            elif agreed_since is None:
                agreed_since = time.monotonic()
            elif time.monotonic() - agreed_since >= 2.0:
                report.settled = True
                break
            time.sleep(0.5)
        report.settle_s = time.monotonic() - began


def _forget_keys(services: Services, tag: str) -> list[str]:
    """Delete the soak's keys on Redis (its queue, leases, jobs, rate-limit windows); returns
    them with their time to live, for the soak's log."""
    redis = Redis.from_url(services.redis_url, socket_timeout=5)
    try:
        keys = list(redis.scan_iter(f"*{tag}*"))
        listed = [f"{key.decode()} ttl={redis.pttl(key)}ms" for key in keys]
        if keys:
            redis.delete(*keys)
        return listed
    finally:
        redis.close()


def _requests_during(folder: Path, sim_url: str, before: dict[str, int]) -> None:
    """The requests the exchange received during the faults, by endpoint (where the IP's
    weight went), for the log."""
    after = sim_call(sim_url, "/_sim/state")["requests"]
    during = {name: int(n) - int(before.get(name, 0)) for name, n in sorted(after.items())}
    (folder / "requests.json").write_text(json.dumps(during, indent=1))
