"""Pieces every soak shares: the simulator's control endpoints over HTTP, a client whose
simulator key the exchange has checked, the environment and command line of a ``tradebot
run`` process, and the exchange-side counts (orders, duplicate ids, doubled lines, trades)."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from collections import Counter
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.admin.service import ClientAdmin, ClientChanges
from tradebot.db import create_engine, session_factory
from tradebot.kit.secrets import Secret
from tradebot.venues.key_permissions import CcxtKeyPermissionCheck

SYMBOL = "BTC/USDT"
FAR_GUARDS = {
    # The soaks test order safety, not the guards: no loss, drawdown or staleness stops a run.
    "MAX_RUN_LOSS_USD": "1000000",
    "MAX_GLOBAL_DRAWDOWN_USD": "1000000",
    "STALE_TICKER_MS": "1000000000",
}


def sim_call(
    url: str, path: str, body: Mapping[str, Any] | None = None, *, method: str = ""
) -> Any:
    """One call of the simulator's control API (``/_sim/...``); JSON in, JSON out."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (the simulator on loopback)
        url.rstrip("/") + path,
        data=data,
        method=method or ("GET" if body is None else "POST"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)


def account_detail(url: str, api_key: str) -> dict[str, Any]:
    """An account with every order and trade (``GET /_sim/accounts/{key}``)."""
    return dict(sim_call(url, f"/_sim/accounts/{api_key}"))


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def store_live_client(
    sessions: async_sessionmaker[AsyncSession],
    master_key: str,
    client: str,
    key: str,
    secret: str,
    sim_url: str,
    *,
    actor: str = "soak",
) -> None:
    """A Pro client whose simulator key is stored after the exchange's permission check."""
    admin = ClientAdmin(sessions, actor=actor)
    await admin.upsert_client(client, ClientChanges(plan="pro", status="active"))
    await admin.store_credentials(
        client,
        "binance",
        key,
        secret,
        None,
        Secret(master_key),
        CcxtKeyPermissionCheck(sandbox_url=sim_url),
    )


async def add_live_client(
    database_url: str, master_key: str, client: str, key: str, secret: str, sim_url: str
) -> None:
    """``store_live_client`` on the database at ``database_url``."""
    engine = create_engine(database_url)
    try:
        await store_live_client(session_factory(engine), master_key, client, key, secret, sim_url)
    finally:
        await engine.dispose()


def base_env(database_url: str, master_key: str, **extra: str) -> dict[str, str]:
    """This process's environment without grid settings, on the soak's database, trading
    live with far guards; ``extra`` last."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRID_", "TP"))}
    env.update(
        PG_URL=database_url,
        CLIENT_MASTER_KEY=master_key,
        PAPER_MODE="false",
        NOT_FOUND_GRACE_MS="300",
        ORDER_RATE_INTERVAL_MS="0",
        LOG_LEVEL="ERROR",
        **FAR_GUARDS,
    )
    env.update(extra)
    return env


def run_command(run_id: str, sim_url: str, *, step: bool) -> list[str]:
    """``tradebot run`` of ``run_id`` on the simulator (``step``: the run steps its market)."""
    command = [sys.executable, "-m", "tradebot.cli.main", "run", "--run-id", run_id]
    return [*command, "--sandbox-url", sim_url, *(["--sandbox-step"] if step else [])]


def trade_ids(exchange: Mapping[str, Any]) -> set[str]:
    """The account's trades as the run records them (``bot_fills.trade_id``)."""
    return {f"{SYMBOL}:{t['id']}" for t in exchange["trades_detail"]}


def duplicate_orders(exchange: Mapping[str, Any]) -> int:
    """Orders created under a client order id already used on the account."""
    ids = [o["client_order_id"] for o in exchange["orders_detail"]]
    created = sum(int(n) - 1 for n in exchange["duplicate_client_order_ids"].values())
    return max(len(ids) - len(set(ids)), created)


def doubled_lines(exchange: Mapping[str, Any]) -> list[float]:
    """Prices where the account has more than one open order (a grid line holds one)."""
    prices = Counter(round(float(o["price"]), 8) for o in open_orders(exchange))
    return sorted(price for price, n in prices.items() if n > 1)


def open_orders(exchange: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The account's resting orders (one filled in part rests too)."""
    return [o for o in exchange["orders_detail"] if o["status"] in ("NEW", "PARTIALLY_FILLED")]


def filled_in_parts(exchange: Mapping[str, Any]) -> int:
    """Orders with more than one trade (the simulator's ``fill_share`` at work)."""
    trades = Counter(t["orderId"] for t in exchange["trades_detail"])
    return sum(1 for n in trades.values() if n > 1)
