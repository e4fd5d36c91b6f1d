"""The SaaS issue's "done when", through HTTP alone, on real processes.

A new user logs in with a token and gets a Trial client, stores exchange keys (checked against
the exchange, listed masked), creates a bot, backtests it, starts a paper run that a real
``tradebot worker`` process trades, watches it and stops it; a signed Stripe webhook upgrades
the plan; an operator lists the clients and reads the KPIs.

The API is ``tradebot api`` (uvicorn) and the worker ``tradebot worker``, both on a database of
this test alone (so the operator's figures are exactly this journey's), and both pointed at
one exchange simulator. The simulator replays real candles, stepped by the worker's price feed,
and the backtest is run over the same candles: the paper run's fills are the backtest's first
fills, compared through the backtest export once the paid plan allows it.
"""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.api.factories import deliver, event, new_bot, subscription
from tests.api.fakes import Issuer, StripeStandIn
from tests.api.fixtures import (  # noqa: F401  (fixtures of this module)
    admin_headers,
    api_process,
    issuer,
    login,
    stripe_stand_in,
)
from tests.venues.sim_fixtures import KEY, SECRET, SimThread, account, demo_week, sim_config
from tests.workers.fixtures import (
    GRID,
    WINDOW,
    eventually,
    running_worker,
    worker_env,  # noqa: F401  (a fixture of this module)
)
from tradebot.candles.model import Candles
from tradebot.config import Settings
from tradebot.venues.exchange_sim import MarketConfig


def candles() -> Candles:
    """A thousand real minutes from where ``GRID`` trades at once (2024-12-02 09:20): far more
    than the worker walks before the run is stopped."""
    return demo_week().slice(WINDOW.start, WINDOW.start + 1000)


@pytest.fixture
def exchange() -> Iterator[SimThread]:
    """The exchange: a stepped simulator over ``candles()`` knowing the customer's key."""
    fees: dict[str, Any] = {fee: GRID[fee] for fee in ("maker_fee", "taker_fee")}
    market = MarketConfig(**fees)  # the fees the bot's grid counts on
    config = sim_config(candles(), [account(usdt=2_000.0, btc=0.0)], market=market)
    with SimThread(config) as running:
        yield running


@pytest.fixture
def journey_env(worker_env: Settings, migrated_pg_url: str) -> Settings:  # noqa: F811
    """The worker's settings on a database of this test's own, with its own queue and prefix."""
    return worker_env.model_copy(update={"PG_URL": migrated_pg_url})


@pytest.fixture
def api_url(
    journey_env: Settings,
    master_key: str,
    issuer: Issuer,  # noqa: F811
    stripe_stand_in: tuple[StripeStandIn, str],  # noqa: F811
    exchange: SimThread,
) -> Iterator[str]:
    """``tradebot api`` asking the simulator about keys, queueing runs to the worker's queue."""
    with api_process(
        str(journey_env.PG_URL),
        master_key,
        issuer,
        stripe_stand_in[1],
        "--sandbox-url",
        exchange.url,
        REDIS_PREFIX=journey_env.REDIS_PREFIX,
        RUN_QUEUE_NAME=journey_env.RUN_QUEUE_NAME,
    ) as url:
        yield url


@pytest.fixture
def worker(
    journey_env: Settings, master_key: str, exchange: SimThread
) -> Iterator[subprocess.Popen[bytes]]:
    with running_worker(journey_env, exchange.url, master_key=master_key) as process:
        yield process


def candle_rows() -> list[list[float]]:
    """``candles()`` as a backtest upload: ``[ts_ms, open, high, low, close, volume]`` rows."""
    c = candles()
    columns = zip(c.ts, c.open, c.high, c.low, c.close, c.volume, strict=True)
    return [[float(v) for v in row] for row in columns]


async def test_a_customer_goes_from_login_to_a_paid_plan_through_http_alone(
    api_url: str,
    worker: subprocess.Popen[bytes],
    login: Callable[..., dict[str, str]],  # noqa: F811
    admin_headers: dict[str, str],  # noqa: F811
) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=10) as api:

        async def get(path: str, headers: dict[str, str]) -> Any:
            response = await api.get(path, headers=headers)
            assert response.status_code == 200, f"GET {path}: {response.text}"
            return response.json()

        # What the operator sees before the user comes (a fresh database: its seeded client).
        clients_before = {c["id"] for c in await get("/clients", admin_headers)}
        kpis_before = await get("/admin/kpis", admin_headers)
        assert (kpis_before["paying_clients"], kpis_before["runs"]["by_mode"]) == (0, {})

        # A new user's token: the first call provisions their client, on the Trial plan.
        user = login(email="journey@example.test")
        me = await get("/me", user)
        assert (me["plan"], me["client_status"], me["email"]) == (
            "trial",
            "active",
            "journey@example.test",
        )
        client_id = me["client_id"]

        # Exchange keys: the exchange confirms they trade and cannot withdraw; shown masked.
        keys = {"exchange": "binance", "api_key": KEY, "api_secret": SECRET}
        stored = await api.put("/credentials", json=keys, headers=user)
        assert stored.status_code == 200, stored.text
        assert stored.json()["credentials"]["status"] == "active"
        assert stored.json()["credentials"]["permissions"]["can_withdraw"] is False
        listed = await get("/credentials", user)
        assert [(c["exchange"], c["key_id"]) for c in listed] == [("binance", f"****{KEY[-4:]}")]
        assert KEY not in str(listed)
        assert SECRET not in str(listed)

        # A bot on a grid: the answer carries the plan preview.
        bot = await new_bot(api, user, **GRID)
        assert bot["plan"]["lines"] == GRID["lines"]
        assert bot["plan"]["line_prices"][0] == GRID["lower"]
        assert bot["plan"]["line_prices"][-1] == GRID["upper"]
        assert bot["plan"]["investment"] == GRID["investment"]

        # A backtest over the candles the exchange will replay: queued, then done.
        created = await api.post(
            "/backtests", json={"bot_id": bot["id"], "candles": candle_rows()}, headers=user
        )
        assert created.status_code == 202, created.text
        backtest_path = f"/backtests/{created.json()['id']}"

        async def backtest_over() -> Any:
            job = await get(backtest_path, user)
            return job if job["status"] in ("done", "failed") else None

        backtest = await eventually(backtest_over, timeout=30, what="the backtest")
        assert (backtest["status"], backtest["candles"]) == ("done", "uploaded"), backtest
        assert backtest["result"]["fills"] > 0
        assert backtest["result"]["round_trips"] > 0
        refused = await api.get(backtest_path + "/export", headers=user)
        assert refused.status_code == 402, refused.text  # exports: paid plans only

        # A paper run: recorded, queued, then taken and traded by the worker process.
        started = await api.post("/runs", json={"bot_id": bot["id"]}, headers=user)
        assert started.status_code == 202, started.text
        run = started.json()
        assert (run["status"], run["mode"], run["bot_id"]) == ("created", "paper", bot["id"])
        run_path = f"/runs/{run['id']}"

        async def trading() -> Any:
            assert worker.poll() is None, worker.communicate()[1].decode()[-2000:]
            status = await get(run_path, user)
            return status if status["fills"] >= 3 and status["open_orders"] > 0 else None

        status = await eventually(trading, timeout=30, what="the worker trading the run")
        assert status["status"] == "running"
        orders = await get(run_path + "/orders", user)
        lines = set(bot["plan"]["line_prices"])
        assert {o["price"] for o in orders if o["kind"] == "limit"} <= lines

        # Stopped: the worker ends the run and says why.
        stopping = await api.post(run_path + "/stop", headers=user)
        assert stopping.status_code == 202, stopping.text

        async def over() -> Any:
            status = await get(run_path, user)
            return status if status["status"] not in ("created", "running") else None

        status = await eventually(over, timeout=30, what="the run stopping")
        assert status["status"] == "stopped"
        # The first word is the last: no generic reason a moment before the stop's cause.
        assert status["stop_reason"] == "stopped on request"
        fills = await get(run_path + "/fills?limit=1000", user)
        assert len(fills) == status["fills"] >= 3
        latest, equity = status["latest"], await get(run_path + "/equity", user)
        assert equity[-1] == {k: latest[k] for k in ("ts", "equity", "price")}  # the last word

        # A signed Stripe event: the subscription to Pro upgrades the client's plan.
        upgrade = event("customer.subscription.created", subscription(client_id, "pro"))
        received = await deliver(api, upgrade)
        assert received.status_code == 200, received.text
        assert received.json() == {"received": True, "outcome": "applied"}
        assert (await get("/me", user))["plan"] == "pro"
        billing = await get("/billing", user)
        assert (billing["plan"]["name"], billing["paid"]) == ("pro", True)

        # Pro exports backtests: the paper run's fills are the backtest's first ones.
        export = await api.get(backtest_path + "/export?format=csv", headers=user)
        assert export.status_code == 200, export.text
        predicted = list(csv.DictReader(io.StringIO(export.text)))
        assert len(predicted) == backtest["result"]["fills"] > len(fills)
        assert [(f["ts"], f["side"], f["line"]) for f in fills] == [
            (int(p["ts_ms"]), p["side"], int(p["line"])) for p in predicted[: len(fills)]
        ]
        for got, want in zip(fills, predicted, strict=False):
            assert got["price"] == pytest.approx(float(want["price"]), rel=1e-9)
            assert got["qty"] == pytest.approx(float(want["qty"]), rel=1e-9)

        # The operator: the new client among the clients, and the journey in the KPIs.
        clients = await get("/clients", admin_headers)
        new = {c["id"]: (c["plan"], c["status"]) for c in clients if c["id"] not in clients_before}
        assert new == {client_id: ("pro", "active")}
        kpis = await get("/admin/kpis", admin_headers)
        assert kpis["clients"] == kpis_before["clients"] + 1 == len(clients)
        assert (kpis["paying_clients"], kpis["mrr_usd"]) == (1, 199.0)
        assert kpis["runs"]["by_mode"] == {"paper": 1}
        assert kpis["runs"]["by_status"] == {"stopped": 1}
        assert kpis["activation"] == 0.0  # a paper run, no live one yet
        customer_view = await api.get("/admin/kpis", headers=user)
        assert customer_view.status_code == 403
