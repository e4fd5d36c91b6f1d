"""The portal's real stack and the browser driver, shared by the end-to-end test
(``tests/portal``) and the portal benchmark (``benchmarks/bench_portal.py``).

``portal_stack`` starts, on a migrated database it is given: the exchange simulator (the demo
week from 2024-12-02 09:20, where the grid trades at once), the local OIDC provider
(``frontend/dev/oidc.mjs``) with two users, a Stripe stand-in, ``tradebot api`` and ``tradebot
worker`` as processes, and the portal built for these URLs and served by ``vite preview``.
``drive`` runs ``frontend/e2e/journey.mjs`` in Chromium against it, answers its requests (the
signed Stripe event after Checkout) and watches the database for the run's first fill, so the
time from the fill to the run page showing it is measured end to end.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from redis import Redis
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from tests.api.factories import event, signed, subscription
from tests.api.fakes import StripeStandIn, stripe_server
from tests.api.fixtures import STRIPE_KEY, api_process, free_port
from tests.venues.sim_fixtures import KEY, SECRET, SimThread, account, demo_week, sim_config
from tests.workers.fixtures import GRID, WINDOW, running_worker
from tradebot.config import Settings

REPO = Path(__file__).resolve().parents[2]
FRONTEND = REPO / "frontend"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AUDIENCE = "https://api.tradebot.e2e"
CLIENT_ID = "tradebot-portal-e2e"
HISTORY = 500
"""Candles before the simulator's start: what the charts show at first."""
WIZARD_LINES = 4
"""The workers' grid with fewer lines: its cells clear the wizard's default fees (0.1 %)."""
EDIT = {"lower": 94_600.0, "upper": 95_800.0, "lines": 5}
"""The running grid, widened: every line moves, so the edit cancels and places orders."""


class StackError(RuntimeError):
    """A part of the stack is missing or did not start."""


@dataclass(frozen=True)
class LocalIssuer:
    """What ``api_process`` needs of an issuer: the OIDC provider's URL and the API audience."""

    url: str
    audience: str


@dataclass(frozen=True)
class PortalStack:
    pg_url: str
    portal_url: str
    api_url: str
    stripe: StripeStandIn
    exchange: SimThread
    worker: subprocess.Popen[bytes]
    dist: Path
    """The built portal ``vite preview`` serves."""
    users: dict[str, tuple[str, str]]
    """``first`` and ``second``: (email, password) of the provider's two users."""


def needs(path: Path | str, what: str) -> None:
    if not Path(path).exists():
        raise StackError(f"{what} is missing ({path}): run frontend/scripts/test.sh first")


@contextmanager
def _process(command: list[str], *, cwd: Path, env: dict[str, str], ready: str) -> Iterator[str]:
    """A process whose first stdout line containing ``ready`` is yielded; stopped afterwards."""
    process = subprocess.Popen(
        command, cwd=cwd, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if ready in line:
                yield line.strip()
                break
        else:
            raise StackError(f"{command[:3]} exited before it was ready")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def _oidc(portal_port: int, users: dict[str, tuple[str, str]]) -> Iterator[LocalIssuer]:
    """The local OIDC provider, knowing the users and the portal's redirect URI."""
    needs(FRONTEND / "node_modules" / "oidc-provider", "frontend/node_modules")
    env = {
        "OIDC_PORT": str(free_port()),
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_REDIRECT_URIS": f"http://127.0.0.1:{portal_port}/callback",
        "OIDC_AUDIENCE": AUDIENCE,
        "OIDC_USERS": ",".join(f"{email}:{password}" for email, password in users.values()),
    }
    with _process(["node", "dev/oidc.mjs"], cwd=FRONTEND, env=env, ready='"issuer"') as line:
        yield LocalIssuer(url=json.loads(line)["issuer"], audience=AUDIENCE)


def _exchange() -> SimThread:
    """The sandbox exchange: a stepped simulator over the demo week from 2024-12-02 09:20 (where
    the grid trades at once), with the candles before as its history, knowing the user's key."""
    start = WINDOW.start - HISTORY
    config = sim_config(
        demo_week().slice(start, len(demo_week().ts)),
        [account(usdt=5_000.0, btc=0.0)],
        start_index=HISTORY,
    )
    return SimThread(config)


@contextmanager
def _portal(issuer: LocalIssuer, api_url: str, port: int, dist: Path) -> Iterator[str]:
    """The portal built for this issuer into ``dist`` and served by ``vite preview``."""
    vite = FRONTEND / "node_modules" / ".bin" / "vite"
    build_env = {
        **os.environ,
        "VITE_OIDC_ISSUER": issuer.url,
        "VITE_OIDC_CLIENT_ID": CLIENT_ID,
        "VITE_OIDC_AUDIENCE": issuer.audience,
        "VITE_API_URL": "/api",
    }
    subprocess.run(
        [str(vite), "build", "--outDir", str(dist), "--emptyOutDir", "--logLevel", "warn"],
        cwd=FRONTEND,
        env=build_env,
        check=True,
    )
    # --bypass-lock: this preview has its own build and port, another may run beside it.
    command = [str(vite), "preview", "--outDir", str(dist), "--port", str(port), "--bypass-lock"]
    env = {"API_PROXY_TARGET": api_url.rstrip("/")}
    with _process(command, cwd=FRONTEND, env=env, ready=str(port)):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def _redis_keys(settings: Settings, tag: str) -> Iterator[None]:
    """The stack's queue and key prefix on the real Redis; their keys deleted afterwards."""
    try:
        yield
    finally:
        redis = Redis.from_url(settings.REDIS_URL)
        try:
            keys = list(redis.scan_iter(f"*{tag}*"))
            if keys:
                redis.delete(*keys)
        finally:
            redis.close()


@contextmanager
def portal_stack(pg_url: str, master_key: str, work: Path) -> Iterator[PortalStack]:
    """The whole stack on the migrated database ``pg_url``; the portal is built under ``work``."""
    users = {
        "first": ("trader@example.test", secrets.token_urlsafe(12)),
        "second": ("other@example.test", secrets.token_urlsafe(12)),
    }
    tag = secrets.token_hex(4)
    settings = Settings(
        PG_URL=pg_url,
        CLIENT_MASTER_KEY=master_key,
        REDIS_PREFIX=f"tradebot-portal-{tag}",
        RUN_QUEUE_NAME=f"tradebot-portal-runs-{tag}",
    )
    port = free_port()
    with ExitStack() as stack:
        stack.enter_context(_redis_keys(settings, tag))
        exchange = stack.enter_context(_exchange())
        issuer = stack.enter_context(_oidc(port, users))
        stripe, stripe_url = stack.enter_context(stripe_server(STRIPE_KEY))
        api_url = stack.enter_context(
            api_process(
                pg_url,
                master_key,
                issuer,  # type: ignore[arg-type]  # only its url and audience are read
                stripe_url,
                "--sandbox-url",
                exchange.url,
                REDIS_PREFIX=settings.REDIS_PREFIX,
                RUN_QUEUE_NAME=settings.RUN_QUEUE_NAME,
                PUBLIC_APP_URL=f"http://127.0.0.1:{port}",
            )
        )
        worker = stack.enter_context(running_worker(settings, exchange.url, master_key=master_key))
        dist = work / "portal"
        portal_url = stack.enter_context(_portal(issuer, api_url, port, dist))
        yield PortalStack(pg_url, portal_url, api_url, stripe, exchange, worker, dist, users)


def journey_env(stack: PortalStack, out_dir: Path, *, mode: str = "full") -> dict[str, str]:
    """The journey script's environment (``mode``: ``full`` for the test, ``bench`` for the
    figures alone)."""
    (email, password), (other_email, other_password) = stack.users["first"], stack.users["second"]
    return {
        "JOURNEY": mode,
        "PORTAL_URL": stack.portal_url,
        "USER_EMAIL": email,
        "USER_PASSWORD": password,
        "OTHER_EMAIL": other_email,
        "OTHER_PASSWORD": other_password,
        "EXCHANGE_KEY": KEY,
        "EXCHANGE_SECRET": SECRET,
        "GRID_LOWER": str(GRID["lower"]),
        "GRID_UPPER": str(GRID["upper"]),
        "GRID_LINES": str(WIZARD_LINES),
        "GRID_SPACING": str(GRID["spacing"]),
        "GRID_INVESTMENT": str(GRID["investment"]),
        "EDIT_LOWER": str(EDIT["lower"]),
        "EDIT_UPPER": str(EDIT["upper"]),
        "EDIT_LINES": str(EDIT["lines"]),
        "OUT_DIR": str(out_dir),
        "CHROMIUM_PATH": CHROMIUM,
    }


def _checkout_client(stripe: StripeStandIn) -> tuple[str, str]:
    """The client and plan of the last Checkout session the API opened at Stripe."""
    checkouts = [form for path, form in stripe.requests if path == "/v1/checkout/sessions"]
    if not checkouts:
        raise StackError("the portal opened no Checkout session")
    form = checkouts[-1]
    client_id = form["client_reference_id"][0]
    plan = next((v[0] for k, v in form.items() if k == "metadata[plan]"), "pro")
    return client_id, plan


def _deliver_subscription(api_url: str, stripe: StripeStandIn) -> None:
    """Stripe's signed ``customer.subscription.created`` for the Checkout just completed."""
    client_id, plan = _checkout_client(stripe)
    body, headers = signed(event("customer.subscription.created", subscription(client_id, plan)))
    url = urllib.parse.urljoin(api_url, "webhooks/stripe")
    answer = httpx.post(url, content=body, headers=headers)
    if answer.json() != {"received": True, "outcome": "applied"}:
        raise StackError(f"the subscription event was not applied: {answer.text}")


class _FirstFillWatch:
    """A thread noting the wall time (epoch ms) at which the run loop records the first fill
    in the database (a paper run's fill is made by its worker's matching engine on the tick the
    exchange's price crosses the order, and written on that same tick)."""

    def __init__(self, pg_url: str) -> None:
        url = make_url(pg_url).set(drivername="postgresql+psycopg")
        self._engine = create_engine(url, poolclass=NullPool)
        self._stop = threading.Event()
        self.filled_at_ms: int | None = None
        self._thread = threading.Thread(target=self._watch, name="first-fill", daemon=True)

    def _watch(self) -> None:
        with self._engine.connect() as conn:
            while not self._stop.is_set():
                if conn.execute(text("select exists (select 1 from bot_fills)")).scalar():
                    self.filled_at_ms = int(time.time() * 1000)
                    return
                conn.rollback()  # a fresh snapshot for the next look
                self._stop.wait(0.005)

    def __enter__(self) -> _FirstFillWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._engine.dispose()


async def drive(
    stack: PortalStack, env: dict[str, str], *, echo: Callable[[str], None] = print
) -> dict[str, Any]:
    """Run the journey script against ``stack``, answering its requests; returns its result,
    with ``fill_visible_after_recorded_ms`` added to its figures once a fill was seen."""
    with _FirstFillWatch(stack.pg_url) as watch:
        process = await asyncio.create_subprocess_exec(
            "node",
            "e2e/journey.mjs",
            cwd=FRONTEND,
            env={**os.environ, **env},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        result: dict[str, Any] | None = None
        async for raw in process.stdout:
            line = raw.decode().rstrip()
            echo(line)
            if line == "@@checkout":
                await asyncio.to_thread(_deliver_subscription, stack.api_url, stack.stripe)
                process.stdin.write(b"ok\n")
                await process.stdin.drain()
            elif line.startswith("@@result "):
                result = json.loads(line.removeprefix("@@result "))
        await process.wait()
    if result is None:
        raise StackError(f"the journey script gave no result (exit {process.returncode})")
    figures = result["figures"]
    seen = figures.get("first_fill_seen_at")
    if seen is not None and watch.filled_at_ms is not None:
        figures["fill_visible_after_recorded_ms"] = max(0, int(seen) - watch.filled_at_ms)
    return result
