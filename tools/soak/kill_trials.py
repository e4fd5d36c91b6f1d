"""SIGKILL a live run at random moments against the exchange simulator, restart it, and check.

One simulator (stepped by the run itself, so the market waits while the run is dead) and one
run id. Each trial starts ``tradebot run``, lets it trade a random number of segments, kills it
with SIGKILL (no cleanup of any kind) and checks the quiescent state:

- no duplicate orders: every client order id reached the exchange at most once, and no line
  ever has two open orders;
- no phantom fills: every fill in the database is a trade on the exchange.

The next trial is the restart; once it has stepped the market again, every trade the exchange
made before the kill must be in the database (no lost fill). After the last trial a final
restart runs to the end of the replay: then every exchange trade is recorded exactly once, the
resting book is exactly the grid's (one empty line, buys below, sells above) and the fills are
the backtest's, as if the run had never died.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, text

from tools.soak.harness import (
    account_detail,
    add_live_client,
    base_env,
    doubled_lines,
    duplicate_orders,
    open_orders,
    percentile,
    run_command,
    sim_call,
    trade_ids,
)
from tradebot.candles.io import bundled, load_candles
from tradebot.config import load_settings
from tradebot.engine.plan import build_plan
from tradebot.engine.strategy import GridStrategy
from tradebot.engine.types import MarketRules
from tradebot.migrations import sync_url, upgrade
from tradebot.research.backtest import run_backtest
from tradebot.venues.exchange_sim import (
    AccountConfig,
    LimitsConfig,
    MarketConfig,
    SimConfig,
    SimThread,
)

KEY, SECRET = "soak-key", "soak-secret-not-real"  # play money of the simulator only
FIRST_CANDLE = 2000  # 2024-12-02 09:20 UTC in the bundled week; GRID trades its first 90 min
GRID = {
    "GRID_PAIR": "BTC/USDT",
    "GRID_LOWER": "94820",
    "GRID_UPPER": "95547",
    "GRID_STEPS": "8",
    "GRID_SPACING": "arithmetic",
    "GRID_INVESTMENT": "2000",
    "MAKER_FEE": "0.0005",
    "TAKER_FEE": "0.001",
}
RULES = MarketRules(tick_size=0.01, lot_step=0.00001, min_notional=5.0, min_qty=0.00001)


@dataclass(slots=True)
class KillReport:
    trials: int = 0
    kills: int = 0
    exchange_orders: int = 0
    duplicate_orders: int = 0
    lost_fills: int = 0
    phantom_fills: int = 0
    problems: list[str] = field(default_factory=list)
    recovery_ms: list[float] = field(default_factory=list)
    matches_backtest: bool = False

    @property
    def clean(self) -> bool:
        return not self.problems and self.matches_backtest

    def missed(self) -> list[str]:
        """The targets missed, one line each (empty: every target met)."""
        checks = [
            (self.duplicate_orders == 0, f"{self.duplicate_orders} duplicate orders"),
            (self.lost_fills == 0, f"{self.lost_fills} lost fills"),
            (self.phantom_fills == 0, f"{self.phantom_fills} phantom fills"),
            (not self.problems, f"grid invariant: {self.problems[:3]}"),
            (self.matches_backtest, "the fills differ from the backtest's"),
        ]
        return [f"SIGKILL trials: {line}" for ok, line in checks if not ok]

    def rows(self) -> list[tuple[str, str]]:
        p50 = statistics.median(self.recovery_ms) if self.recovery_ms else 0.0
        p99 = percentile(self.recovery_ms, 0.99)
        return [
            ("SIGKILL trials", str(self.kills)),
            ("orders on the exchange", str(self.exchange_orders)),
            ("duplicate orders", str(self.duplicate_orders)),
            ("lost fills", str(self.lost_fills)),
            ("phantom fills", str(self.phantom_fills)),
            ("grid invariant violations", str(len(self.problems))),
            ("fills equal the backtest", "yes" if self.matches_backtest else "NO"),
            ("recovery p50 / p99 (restart to first step)", f"{p50:.0f} / {p99:.0f} ms"),
        ]


class KillTrials:
    def __init__(self, database_url: str, master_key: str, *, trials: int, seed: int = 0) -> None:
        self.database_url = database_url
        self.master_key = master_key
        self.trials = trials
        self.rng = random.Random(seed)
        # About 8 segments a trial (3 a candle), with room to finish after the last kill.
        candles = max(90, trials * 3 + 30)
        self.candles = load_candles(bundled()).slice(FIRST_CANDLE, FIRST_CANDLE + candles)
        self.client = f"soak-{seed}-{os.getpid()}"
        self.run_id = f"soak-run-{seed}-{os.getpid()}"
        self.report = KillReport()
        self.db = create_engine(sync_url(database_url))

    # ---- set-up -------------------------------------------------------------------------
    def _config(self) -> SimConfig:
        return SimConfig(
            candles=self.candles,
            accounts=[AccountConfig(KEY, SECRET, {"USDT": 2000.0, "BTC": 0.0})],
            market=MarketConfig(maker_fee=0.0005, taker_fee=0.001),
            limits=LimitsConfig(weight_limit=10**7),
        )

    def _start(self, sim_url: str) -> subprocess.Popen[bytes]:
        env = base_env(self.database_url, self.master_key, CLIENT_ID=self.client, **GRID)
        return subprocess.Popen(  # noqa: S603 (our own CLI, fixed arguments)
            run_command(self.run_id, sim_url, step=True),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    # ---- observation --------------------------------------------------------------------
    def _position(self, sim_url: str) -> tuple[int, int, bool]:
        market = sim_call(sim_url, "/_sim/state")["market"]
        return market["candle"], market["segments_walked"], market["done"]

    def _exchange(self, sim_url: str) -> dict[str, Any]:
        return account_detail(sim_url, KEY)

    def _status(self) -> str:
        with self.db.connect() as conn:
            status = conn.execute(
                text("select status from bot_runs where id = :run"), {"run": self.run_id}
            ).scalar_one()
        return str(status)

    def _recorded_trades(self) -> list[str]:
        with self.db.connect() as conn:
            rows = conn.execute(
                text("select trade_id from bot_fills where run_id = :run"), {"run": self.run_id}
            )
            return [row[0] for row in rows]

    def _wait_for_step(
        self, sim_url: str, since: tuple[int, int, bool], steps: int, proc: subprocess.Popen[bytes]
    ) -> bool:
        """Wait until the market moved ``steps`` segments past ``since``; False if the run
        ended first."""
        target = since[0] * 3 + since[1] + steps
        while proc.poll() is None:
            candle, walked, done = self._position(sim_url)
            if candle * 3 + walked >= target or done:
                return True
            time.sleep(0.005)
        return False

    # ---- checks -------------------------------------------------------------------------
    def _check_quiescent(self, exchange: dict[str, Any]) -> None:
        self.report.exchange_orders = len(exchange["orders_detail"])
        self.report.duplicate_orders += duplicate_orders(exchange)
        doubled = doubled_lines(exchange)
        if doubled:
            self.report.problems.append(f"two open orders on one line: {doubled}")
        self.report.phantom_fills += len(set(self._recorded_trades()) - trade_ids(exchange))

    def _check_recovered(self, before_kill: set[str]) -> None:
        self.report.lost_fills += len(before_kill - set(self._recorded_trades()))

    def _check_final(self, exchange: dict[str, Any]) -> None:
        recorded = self._recorded_trades()
        traded = trade_ids(exchange)
        self.report.lost_fills += len(traded - set(recorded))
        if len(recorded) != len(set(recorded)):
            self.report.problems.append("a trade recorded twice")
        settings = load_settings(**GRID)
        plan = build_plan(settings.grid_config(), RULES)
        with self.db.connect() as conn:
            state = conn.execute(
                text("select state from bot_runs where id = :run"), {"run": self.run_id}
            ).scalar_one()
        state = json.loads(state) if isinstance(state, str) else state
        wanted = sorted(
            (round(w.price, 2), w.side.value.upper()) for w in GridStrategy(plan, state).wanted()
        )
        resting = sorted(
            (round(float(o["price"]), 2), o["side"].upper()) for o in open_orders(exchange)
        )
        if wanted != resting:
            self.report.problems.append(f"book {resting} is not the grid's {wanted}")
        backtest = run_backtest(plan, self.candles)
        with self.db.connect() as conn:
            rows = conn.execute(
                text(
                    "select ts, side, line, price, qty from bot_fills where run_id = :run "
                    "order by id"
                ),
                {"run": self.run_id},
            ).all()
        got = [(r[0], r[1], r[2], round(r[3], 6), round(r[4], 8)) for r in rows]
        want = [
            (f.ts, f.side.value, f.line, round(f.price, 6), round(f.qty, 8)) for f in backtest.fills
        ]
        self.report.matches_backtest = got == want

    # ---- the trials ---------------------------------------------------------------------
    def run(self) -> KillReport:
        upgrade(self.database_url)
        with SimThread(self._config()) as sim:
            asyncio.run(
                add_live_client(
                    self.database_url, self.master_key, self.client, KEY, SECRET, sim.url
                )
            )
            running = True
            while running and self.report.trials < self.trials:
                self.report.trials += 1
                running = self._trial(sim.url)
            # The last restart, to the end of the replay (unless the last kill came just after
            # the run had finished it).
            if running and self._status() != "finished":
                final = self._start(sim.url)
                _, err = final.communicate(timeout=600)
                if final.returncode != 0:
                    self.report.problems.append(f"final run failed: {err.decode()[-400:]}")
            self._check_final(self._exchange(sim.url))
        self.db.dispose()
        return self.report

    def _trial(self, sim_url: str) -> bool:
        """One restart-and-kill; False when the run reached the end of the replay first."""
        exchange = self._exchange(sim_url)
        before_kill = trade_ids(exchange)
        started_at = self._position(sim_url)
        began = time.monotonic()
        proc = self._start(sim_url)
        if not self._wait_for_step(sim_url, started_at, 1, proc):
            return self._ended(proc)
        self.report.recovery_ms.append((time.monotonic() - began) * 1000)
        self._check_recovered(before_kill)
        progressed = self._wait_for_step(
            sim_url, self._position(sim_url), self.rng.randint(0, 12), proc
        )
        if not progressed:
            return self._ended(proc)
        time.sleep(self.rng.uniform(0, 0.03))  # land anywhere inside a step
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.report.kills += 1
        self._check_quiescent(self._exchange(sim_url))
        return True

    def _ended(self, proc: subprocess.Popen[bytes]) -> bool:
        _, err = proc.communicate(timeout=60)
        if proc.returncode != 0:
            self.report.problems.append(f"run exited {proc.returncode}: {err.decode()[-400:]}")
        return False
