"""The real stack the API benchmark measures, set up and torn down around it.

- a throwaway PostgreSQL database, migrated, seeded with a client whose runs have a month of
  orders, fills and snapshots (and other clients' rows beside them), dropped at the end;
- a JWKS issuer on loopback (the tests' own, ``tests.api.fakes``) that signs the bearer token;
- ``tradebot api`` (uvicorn, one process) in a subprocess, with its own Redis key prefix and
  run queue, whose keys are deleted when it stops.

The server is the installed command a deployment runs: nothing here reaches into its process.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis
from psycopg import sql
from sqlalchemy.engine import URL

from benchmarks.measure import tradebot_command
from tradebot.migrations import upgrade

PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SUBJECT = "auth0|bench-user"
CLIENT_ID = "bench-client"
# A 100-line grid run for 30 days: a snapshot a minute, ~4,000 round trips, 99 orders resting.
SNAPSHOTS_PER_RUN = 43_200
FILLS_PER_RUN = 4_000
OPEN_ORDERS = 99
BENCH_RUNS = 3
OTHER_CLIENTS = 20
OTHER_SNAPSHOTS = 5_000
OTHER_FILLS = 500


@dataclass(frozen=True, slots=True)
class Seeded:
    database: str
    database_url: str
    client_id: str
    run_id: str
    rows: int


def _connect(database: str, *, autocommit: bool) -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=database, autocommit=autocommit
        )
    except psycopg.OperationalError as exc:
        raise RuntimeError(f"PostgreSQL at {PG_HOST}:{PG_PORT} is needed: {exc}") from None


def _url(database: str) -> str:
    """The async URL the API and the migrations take."""
    return URL.create(
        "postgresql+asyncpg", username=PG_USER, host=PG_HOST, port=PG_PORT, database=database
    ).render_as_string(hide_password=False)


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A new database (its name), dropped at the end whatever happened."""
    name = f"tradebot_bench_{secrets.token_hex(4)}"
    with _connect("postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with _connect("postgres", autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


_RUN = """
INSERT INTO bot_runs (id, client_id, mode, exchange, pair, status, config, state, base_ts,
                      clock_ts, owner, created_at, updated_at)
VALUES (%(run)s, %(client)s, 'paper', 'binance', 'BTC/USDT', 'running',
        '{"lower": 55000, "upper": 65000, "lines": 100, "investment": 10000}', '[]',
        1704067200000, 1704067200000 + %(snapshots)s::bigint * 60000, 'user:bench', now(), now())
"""
_SNAPSHOTS = """
INSERT INTO bot_inventory_snapshots (client_id, run_id, ts, price, base, quote, equity,
                                     grid_profit, fees, round_trips, empty_line)
SELECT %(client)s, %(run)s, 1704067200000 + g::bigint * 60000, 60000 + 2000 * sin(g / 500.0),
       0.08 + 0.01 * cos(g / 500.0), 5000 - g * 0.001, 10000 + g * 0.01, g * 0.012, g * 0.002,
       g / 11, 50 FROM generate_series(0, %(snapshots)s - 1) g
"""
_ORDERS = """
INSERT INTO bot_orders (client_id, run_id, client_order_id, exchange_order_id, line, seq, side,
                        kind, price, qty, filled_qty, status, created_ts, updated_ts)
SELECT %(client)s, %(run)s, %(prefix)s || g, 'x' || g, g %% 100, g / 100,
       CASE WHEN g %% 2 = 0 THEN 'buy' ELSE 'sell' END, 'limit', 55000 + (g %% 100) * 100, 0.0017,
       CASE WHEN g < %(fills)s THEN 0.0017 ELSE 0 END,
       CASE WHEN g < %(fills)s THEN 'filled' ELSE 'open' END,
       1704067200000 + g * 600, 1704067200000 + g * 600
FROM generate_series(0, %(fills)s + %(open)s - 1) g
"""
_FILLS = """
INSERT INTO bot_fills (client_id, run_id, order_id, client_order_id, trade_id, ts, side, line,
                       price, qty, fee, fee_currency)
SELECT client_id, run_id, id, client_order_id, 't-' || id, updated_ts + 1000, side, line, price,
       qty, price * qty * 0.001, 'USDT'
FROM bot_orders WHERE run_id = %(run)s AND status = 'filled'
"""
# What the run loop's record_fills keeps with the fills it inserts.
_FILL_COUNT = """
UPDATE bot_runs SET fill_count = (SELECT count(*) FROM bot_fills WHERE run_id = %(run)s)
WHERE id = %(run)s
"""


def _seed_run(
    conn: psycopg.Connection[tuple[object, ...]], client: str, run: str, snapshots: int, fills: int
) -> None:
    values = {"client": client, "run": run, "snapshots": snapshots, "fills": fills}
    values.update(open=OPEN_ORDERS, prefix=f"{run}-")
    for statement in (_RUN, _SNAPSHOTS, _ORDERS, _FILLS, _FILL_COUNT):
        conn.execute(statement, values)


def seed(database: str) -> Seeded:
    """Migrate ``database`` and write the benchmark's client, its login and the runs' rows."""
    upgrade(_url(database))
    clients = [(CLIENT_ID, BENCH_RUNS, SNAPSHOTS_PER_RUN, FILLS_PER_RUN)] + [
        (f"other-{i:02d}", 1, OTHER_SNAPSHOTS, OTHER_FILLS) for i in range(OTHER_CLIENTS)
    ]
    with _connect(database, autocommit=False) as conn:
        for client, runs, snapshots, fills in clients:
            conn.execute(
                "INSERT INTO clients (id, name, owner, plan, status, limits, created_at, "
                "updated_at) VALUES (%s, %s, %s, 'pro', 'active', '{}', now(), now())",
                (client, client, client),
            )
            for number in range(runs):
                _seed_run(conn, client, f"paper-{client}-{number}", snapshots, fills)
        conn.execute(
            "INSERT INTO users (sub, client_id, email, created_at) VALUES (%s, %s, '', now())",
            (SUBJECT, CLIENT_ID),
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")  # a live database's planner statistics and visibility map
        counted = conn.execute(
            "SELECT (SELECT count(*) FROM bot_inventory_snapshots) + "
            "(SELECT count(*) FROM bot_orders) + (SELECT count(*) FROM bot_fills)"
        ).fetchone()
    rows = int(str(counted[0])) if counted else 0
    return Seeded(database, _url(database), CLIENT_ID, f"paper-{CLIENT_ID}-0", rows)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Server:
    url: str
    pid: int


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"tradebot api exited {process.returncode}: {' | '.join(tail)}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError("tradebot api did not answer /healthz within 60 s")


def _delete_keys(prefixes: tuple[str, ...]) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for prefix in prefixes:
            for key in client.scan_iter(match=f"{prefix}*", count=1000):
                client.unlink(key)
    finally:
        client.close()


@contextmanager
def api_server(
    database_url: str, issuer_url: str, audience: str, **limits: int
) -> Iterator[Server]:
    """``tradebot api`` on a free loopback port, settings from the environment as deployed.

    ``limits`` overrides settings such as ``API_RATE_LIMIT_PER_CLIENT``. The server's Redis keys
    (its own prefix and queue name) are deleted after it stops.
    """
    port = free_port()
    prefix = f"tradebot-bench-{secrets.token_hex(4)}"
    env: dict[str, str] = {
        **os.environ,
        "PG_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": prefix,
        "RUN_QUEUE_NAME": f"{prefix}:runs",
        "AUTH0_ISSUER": issuer_url,
        "AUTH0_AUDIENCE": audience,
        **{name: str(value) for name, value in limits.items()},
    }
    env.pop("ADMIN_API_TOKEN", None)
    with tempfile.NamedTemporaryFile(prefix="tradebot-bench-api-", suffix=".log") as log:
        process = subprocess.Popen(
            [*tradebot_command(), "api", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, process, Path(log.name))
            yield Server(url, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            _delete_keys((prefix,))


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux ``/proc``; else ``None``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backends_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL server process connected to ``database``."""
    with _connect("postgres", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    seconds = {int(str(pid)): cpu_seconds(int(str(pid))) for (pid,) in rows}
    return {pid: cpu for pid, cpu in seconds.items() if cpu is not None}
