"""PostgreSQL and Redis for a soak, with the restarts it inflicts on them.

``SharedServices`` are the machine's own (127.0.0.1:5432 and :6379, as ``make services`` starts
them): the PostgreSQL cluster stops and starts through ``pg_ctlcluster``, Redis is shut down
without saving and started again with the command line of ``infra/ensure-services.sh``.
Everything else on the machine sees those restarts too, so ``PrivateServices`` (a cluster and a
Redis of the soak's own, on free ports under a temporary directory) serve where other work
shares the machine, such as the short soak inside ``make test``. Either way the soak's data
lives in a throwaway database, created and dropped here.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import URL

HOST = "127.0.0.1"
PG_USER = "postgres"
_PG_CONF = Path("/etc/postgresql")
_REDIS_FLAGS = ["--bind", HOST, "--save", "", "--appendonly", "no"]


def answers(port: int, host: str = HOST) -> bool:
    """Whether something accepts connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(port: int, *, up: bool = True, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while answers(port) != up:
        if time.monotonic() > deadline:
            raise RuntimeError(f"port {port} still {'down' if up else 'up'} after {timeout:.0f} s")
        time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _pg_version() -> str:
    return sorted(os.listdir(_PG_CONF), key=lambda v: [int(p) for p in v.split(".")])[-1]


def _run(command: list[str], *, as_postgres: bool = False, check: bool = True) -> str:
    """Run a service's tool (fixed arguments of ours); its standard output."""
    if as_postgres and os.geteuid() == 0:  # PostgreSQL refuses to run as root
        command = ["runuser", "-u", PG_USER, "--", *command]
    done = subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)  # noqa: S603
    return done.stdout


class Services:
    """Where the soak's PostgreSQL and Redis answer, and how to restart them."""

    def __init__(self, pg_port: int, redis_port: int) -> None:
        self.pg_port = pg_port
        self.redis_port = redis_port

    @property
    def redis_url(self) -> str:
        return f"redis://{HOST}:{self.redis_port}/0"

    def pg_url(self, database: str, driver: str = "asyncpg") -> str:
        return URL.create(
            f"postgresql+{driver}",
            username=PG_USER,
            host=HOST,
            port=self.pg_port,
            database=database,
        ).render_as_string(hide_password=False)

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host=HOST, port=self.pg_port, user=PG_USER, dbname="postgres", autocommit=True
        )

    def create_database(self, *, log_statements: bool = False) -> str:
        """A new empty database; with ``log_statements`` the server logs every statement of
        it (the tenancy audit reads them)."""
        name = f"tradebot_soak_{secrets.token_hex(4)}"
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            if log_statements:
                alter = sql.SQL("ALTER DATABASE {} SET log_statement = 'all'")
                conn.execute(alter.format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))

    def restart_postgres(self, down_s: float = 0.0) -> None:
        """Stop the PostgreSQL server (every connection drops), keep it down ``down_s``
        seconds, start it again and wait until it answers."""
        self._postgres("stop")
        time.sleep(down_s)
        self._postgres("start")
        wait_for(self.pg_port)

    def _postgres(self, action: str) -> None:
        raise NotImplementedError

    def stop_redis(self) -> None:
        """Shut Redis down without saving: every key is gone when it starts again."""
        with contextlib.suppress(RedisError):  # the server closes the connection as it goes
            Redis(host=HOST, port=self.redis_port, socket_timeout=5).shutdown(nosave=True)
        wait_for(self.redis_port, up=False)

    def start_redis(self) -> None:
        self._start_redis()
        wait_for(self.redis_port)

    def _start_redis(self) -> None:
        raise NotImplementedError

    def ensure_up(self) -> None:
        """Start whatever does not answer (a restart the soak was interrupted in)."""
        if not answers(self.redis_port):
            self.start_redis()
        if not answers(self.pg_port):
            self._postgres("start")
            wait_for(self.pg_port)

    def statement_log(self) -> Path | None:
        """The file the PostgreSQL server writes its log to."""
        raise NotImplementedError

    def close(self) -> None:
        """Leave the services as they were found (running)."""
        self.ensure_up()


class SharedServices(Services):
    """The machine's PostgreSQL cluster and Redis (``make services``)."""

    def __init__(self) -> None:
        super().__init__(5432, 6379)
        self.version = _pg_version()

    def _postgres(self, action: str) -> None:
        _run(["pg_ctlcluster", "--skip-systemctl-redirect", self.version, "main", action])

    def _start_redis(self) -> None:
        for folder in ("/var/lib/redis", "/var/log/redis"):
            os.makedirs(folder, exist_ok=True)
        flags = [*_REDIS_FLAGS, "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]
        _run(["redis-server", "--daemonize", "yes", "--port", str(self.redis_port), *flags])

    def statement_log(self) -> Path | None:
        listing = _run(["pg_lsclusters", "--no-header", self.version, "main"], check=False).split()
        path = Path(listing[-1]) if listing else None
        return path if path is not None and path.is_file() else None


class PrivateServices(Services):
    """A PostgreSQL cluster and a Redis of the soak's own, removed by ``close``."""

    def __init__(self) -> None:
        super().__init__(_free_port(), _free_port())
        self.root = Path(tempfile.mkdtemp(prefix="tradebot-soak-"))
        self.bin = Path("/usr/lib/postgresql") / _pg_version() / "bin"
        self.data = self.root / "pg"
        self.log = self.root / "postgresql.log"
        self._redis: subprocess.Popen[bytes] | None = None
        self._options = (
            f"-p {self.pg_port} -k {self.root} -c listen_addresses={HOST} -c fsync=off "
            "-c log_line_prefix='%m [%p] %q%u@%d '"
        )
        if os.geteuid() == 0:
            shutil.chown(self.root, PG_USER)
        try:
            _run([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", PG_USER,
                  "--no-sync", "-E", "UTF8"], as_postgres=True)  # fmt: skip
            self._postgres("start")
            self.start_redis()
        except BaseException:
            self.close()
            raise

    def _pg_ctl(self, action: str, *extra: str) -> None:
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w"]
        _run([*command, *extra, action], as_postgres=True)

    def _postgres(self, action: str) -> None:
        if action == "start":
            self._pg_ctl("start", "-o", self._options)
        else:
            self._pg_ctl(action, "-m", "fast")

    def _start_redis(self) -> None:
        if self._redis is not None:
            self._redis.wait(timeout=30)
        command = [
            "redis-server",
            "--port",
            str(self.redis_port),
            *_REDIS_FLAGS,
            "--dir",
            str(self.root),
        ]
        self._redis = subprocess.Popen(  # noqa: S603 (fixed arguments of ours)
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )

    def statement_log(self) -> Path | None:
        return self.log

    def close(self) -> None:
        if self._redis is not None:
            self._redis.kill()
            self._redis.wait(timeout=30)
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def throwaway_database(
    *, private: bool, log_statements: bool = False
) -> Iterator[tuple[Services, str]]:
    """The services (the machine's, or private ones) and a new database on them; on the way
    out, by any path, the database is dropped and the services left running (or removed)."""
    services: Services = PrivateServices() if private else SharedServices()
    try:
        database = services.create_database(log_statements=log_statements)
        try:
            yield services, database
        finally:
            services.ensure_up()
            services.drop_database(database)
    finally:
        services.close()
