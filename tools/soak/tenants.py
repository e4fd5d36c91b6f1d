"""The soak's tenants: each one client with its own simulator account (API key) and its own
grid, driven either by a ``tradebot run`` process of its own or by the shared pool of ``tradebot
worker`` processes (a live run written and queued as the API writes and queues it)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from arq.connections import ArqRedis

from tools.soak.harness import SYMBOL, add_live_client
from tradebot.db import create_engine, session_factory
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.models.runs import BotRun, RunAction, RunMode, RunRequest
from tradebot.runs.queue import ArqRunQueue
from tradebot.runs.repository import RunRepository, RunRequestRepository
from tradebot.runtime.ids import run_tag
from tradebot.venues.exchange_sim import AccountConfig, MarketConfig

LOWER, UPPER = 94_820.0, 95_547.0
"""A range the bundled week's price crosses back and forth from candle 2000 on for hours."""
MAKER_FEE, TAKER_FEE = 0.0002, 0.0005
LINES = (16, 12, 14, 10)
"""Lines per tenant, in turn: every tenant places orders at prices of its own."""
INVESTMENT = 2_000.0
MARKET = MarketConfig(symbol=SYMBOL, maker_fee=MAKER_FEE, taker_fee=TAKER_FEE)
WORKER = "worker-"
"""The worker processes' names start so."""


class Driver(StrEnum):
    RUN = "run"
    """A ``tradebot run`` process of its own."""
    WORKER = "worker"
    """Whichever process of the ``tradebot worker`` pool holds its lease."""


@dataclass(slots=True)
class Tenant:
    index: int
    client: str
    key: str
    secret: str
    lines: int
    driver: Driver
    run_id: str

    @property
    def process(self) -> str:
        """The name of its own process (a tenant the run process drives)."""
        return f"run-{self.index}"

    @property
    def tag(self) -> str:
        """The run's part of every client order id it mints."""
        return "tb" + run_tag(self.run_id)

    def grid_env(self) -> dict[str, str]:
        """The grid as ``tradebot run`` reads it."""
        return {
            "GRID_PAIR": SYMBOL,
            "GRID_LOWER": str(LOWER),
            "GRID_UPPER": str(UPPER),
            "GRID_STEPS": str(self.lines),
            "GRID_SPACING": "arithmetic",
            "GRID_INVESTMENT": str(INVESTMENT),
            "MAKER_FEE": str(MAKER_FEE),
            "TAKER_FEE": str(TAKER_FEE),
        }

    def grid_spec(self) -> dict[str, object]:
        """The grid as the API stores it in a run's config (``bots.schemas.GridSpec``)."""
        return {
            "lower": LOWER,
            "upper": UPPER,
            "lines": self.lines,
            "investment": INVESTMENT,
            "spacing": "arithmetic",
            "maker_fee": MAKER_FEE,
            "taker_fee": TAKER_FEE,
        }


def make_tenants(count: int, tag: str) -> list[Tenant]:
    """``count`` tenants, driven in turn by a process of their own and by the worker pool."""
    return [
        Tenant(
            index=i,
            client=f"soak-{tag}-c{i}",
            key=f"soak-{tag}-key{i}",
            secret=secrets.token_hex(16),  # play money of the simulator only
            lines=LINES[i % len(LINES)],
            driver=Driver.RUN if i % 2 == 0 else Driver.WORKER,
            run_id=f"{RunMode.LIVE.value}-soak-{tag}-{i}",
        )
        for i in range(count)
    ]


def sim_accounts(tenants: list[Tenant]) -> list[AccountConfig]:
    return [AccountConfig(t.key, t.secret, {"USDT": INVESTMENT, "BTC": 0.0}) for t in tenants]


async def enrol(
    tenants: list[Tenant],
    database_url: str,
    master_key: str,
    sim_url: str,
    redis_url: str,
    queue_name: str,
) -> None:
    """Each tenant's client with its key checked by the exchange; the worker-driven tenants'
    runs written with their start request (as ``RunService.start`` writes them, without the
    billing checks, which are not under test) and queued once committed."""
    for tenant in tenants:
        await add_live_client(
            database_url, master_key, tenant.client, tenant.key, tenant.secret, sim_url
        )
    engine = create_engine(database_url)
    redis = ArqRedis.from_url(redis_url)
    try:
        sessions = session_factory(engine)
        for tenant in (t for t in tenants if t.driver is Driver.WORKER):
            scope = ClientScope.of(tenant.client)
            async with client_transaction(sessions, scope) as session:
                await RunRepository(session, scope).add(
                    BotRun(
                        id=tenant.run_id,
                        client_id=tenant.client,
                        mode=RunMode.LIVE.value,
                        exchange="binance",
                        pair=SYMBOL,
                        config=tenant.grid_spec(),
                        base_ts=int(time.time() * 1000),
                        owner="soak",
                    )
                )
                await RunRequestRepository(session, scope).add(
                    RunRequest(
                        client_id=tenant.client,
                        run_id=tenant.run_id,
                        action=RunAction.START.value,
                        actor="soak",
                    )
                )
            await ArqRunQueue(redis, queue_name).start(tenant.client, tenant.run_id)
    finally:
        await redis.aclose()
        await engine.dispose()
