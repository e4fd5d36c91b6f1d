"""The worker's cron jobs on the real database, Redis and exchange simulator: the daily key
re-check, trial expiry, the daily P&L summary and the sweeper of lost enqueues."""

from __future__ import annotations

import io
import logging
from datetime import UTC, date, datetime, timedelta

from arq.constants import abort_jobs_ss, job_key_prefix
from redis.asyncio import Redis
from sqlalchemy import select, update

from tests.runs.live_fixtures import live_client
from tests.venues.sim_fixtures import (
    KEY,
    OTHER_KEY,
    OTHER_SECRET,
    account,
    control,
    running_sim,
    sim_config,
)
from tests.workers.fixtures import ask_for_run, options, paper_client, run_row, worker_state
from tradebot.db import transaction
from tradebot.engine import core
from tradebot.engine.types import Side
from tradebot.kit.secrets import Secret
from tradebot.models.clients import AuditLog, Client
from tradebot.models.runs import BotGuardState, BotRun, RunRequest
from tradebot.observability.logs import configure_logging, get_logger
from tradebot.runs.queue import run_job_id
from tradebot.runs.store import SqlRunStore
from tradebot.runtime.store import FillRecord
from tradebot.venues.key_permissions import CcxtKeyPermissionCheck
from tradebot.venues.permissions import KeyPermissions
from tradebot.workers.daily import TRIAL_ENDED, expire_trials, summarise_day
from tradebot.workers.key_recheck import recheck_keys
from tradebot.workers.lease import RunLease
from tradebot.workers.settings import worker_settings
from tradebot.workers.sweeper import sweep_runs


async def _trail(sessions, client_id: str, action: str) -> list[AuditLog]:  # type: ignore[no-untyped-def]
    async with transaction(sessions) as session:
        query = select(AuditLog).where(AuditLog.client_id == client_id, AuditLog.action == action)
        return list((await session.execute(query)).scalars())


async def test_the_daily_key_recheck_trips_the_kill_switch_of_a_key_that_gained_withdraw(
    worker_env, sessions, master_key
):
    accounts = [account(), account(OTHER_KEY, OTHER_SECRET)]
    async with running_sim(sim_config(accounts=accounts)) as sim:
        leaked = await live_client(sessions, sim.url, master_key)
        clean = await live_client(sessions, sim.url, master_key, key=OTHER_KEY, secret=OTHER_SECRET)
        await control(
            sim.url, "POST", f"/_sim/accounts/{KEY}/permissions", {"enableWithdrawals": True}
        )
        async with worker_state(worker_env, options(sim.url)) as state:
            report = await recheck_keys(state)
    assert leaked in report.tripped
    assert clean not in report.tripped
    async with transaction(sessions) as session:
        guards = (
            await session.execute(
                select(BotGuardState.client_id, BotGuardState.guard, BotGuardState.run_id).where(
                    BotGuardState.client_id.in_([leaked, clean]),  # type: ignore[attr-defined]
                    BotGuardState.active.is_(True),  # type: ignore[attr-defined]
                )
            )
        ).all()
    assert [tuple(g) for g in guards] == [(leaked, "key_permissions", None)]
    assert len(await _trail(sessions, leaked, "key_gained_withdraw")) == 1
    assert await _trail(sessions, clean, "key_gained_withdraw") == []


async def test_a_key_the_exchange_does_not_answer_for_is_recorded_not_trusted(
    worker_env, sessions, master_key
):
    async with running_sim(sim_config()) as sim:
        client = await live_client(sessions, sim.url, master_key)
        async with worker_state(worker_env, options(sim.url)) as state:
            # Every ask fails: the test database holds other tests' clients, each asked up to
            # three times, ahead of this one.
            broken = {"path": "/sapi/v1/account/apiRestrictions", "kind": "5xx", "count": 100_000}
            await control(sim.url, "POST", "/_sim/faults", {"rules": [broken]})
            report = await recheck_keys(state)
    assert client in report.unconfirmed
    assert client not in report.tripped
    assert len(await _trail(sessions, client, "key_recheck_failed")) == 1


class LoudKeyCheck(CcxtKeyPermissionCheck):
    """The exchange's key check, through a library that logs the key it signs with."""

    async def check(
        self, exchange: str, api_key: Secret, secret: Secret, passphrase: Secret | None
    ) -> KeyPermissions:
        get_logger("a library").info("signing", text=f"with {api_key.reveal()}")
        return await super().check(exchange, api_key, secret, passphrase)


async def test_the_key_recheck_masks_the_key_in_log_lines_while_the_exchange_is_asked(
    worker_env, sessions, master_key
):
    captured = io.StringIO()
    configure_logging("INFO")
    root = logging.getLogger()
    root.handlers[0].setStream(captured)  # type: ignore[attr-defined]
    try:
        async with running_sim(sim_config()) as sim:
            client = await live_client(sessions, sim.url, master_key)
            async with worker_state(worker_env, options(sim.url)) as state:
                report = await recheck_keys(state, LoudKeyCheck(sandbox_url=sim.url))
    finally:
        root.setLevel(logging.WARNING)
    assert client not in report.unconfirmed
    signing = [line for line in captured.getvalue().splitlines() if '"signing"' in line]
    assert signing
    assert all(KEY not in line and "***" in line for line in signing)


async def _client_created(sessions, client_id: str, days_ago: int) -> None:  # type: ignore[no-untyped-def]
    async with transaction(sessions) as session:
        await session.execute(
            update(Client)
            .where(Client.id == client_id)  # type: ignore[arg-type]
            .values(created_at=datetime.now(UTC) - timedelta(days=days_ago))
        )


async def test_trial_expiry_stops_the_paper_runs_of_trials_past_14_days_once(worker_env, sessions):
    expired = await paper_client(sessions, plan="trial")
    current = await paper_client(sessions, plan="trial")
    await _client_created(sessions, expired, 15)
    await _client_created(sessions, current, 3)
    waiting = await ask_for_run(sessions, expired)
    running = await ask_for_run(sessions, expired, status="running")
    other = await ask_for_run(sessions, current, status="running")
    async with worker_state(worker_env, options("http://127.0.0.1:9")) as state:
        stopped = await expire_trials(state, datetime.now(UTC))
        again = await expire_trials(state, datetime.now(UTC))
        aborted = await state.redis.zscore(abort_jobs_ss, run_job_id(running))
    assert {waiting, running} <= set(stopped)
    assert other not in stopped
    assert again == []  # asked once: the worker ends the run
    assert (
        (await run_row(sessions, waiting)).status,
        (await run_row(sessions, waiting)).stop_reason,
    ) == (
        "stopped",
        TRIAL_ENDED,
    )
    assert (await run_row(sessions, running)).status == "running"  # its worker ends it
    assert aborted is not None  # ... told through the API's stop path
    async with transaction(sessions) as session:
        stops = (
            (
                await session.execute(
                    select(RunRequest.status).where(
                        RunRequest.run_id == running,
                        RunRequest.action == "stop",  # type: ignore[arg-type]
                    )
                )
            )
            .scalars()
            .all()
        )
    assert list(stops) == ["queued"]
    assert (await run_row(sessions, other)).status == "running"
    assert len(await _trail(sessions, expired, "trial_expired")) == 1
    assert await _trail(sessions, current, "trial_expired") == []


async def test_the_daily_pnl_summary_is_written_once_per_client_and_day(worker_env, sessions):
    client = await paper_client(sessions)
    day = date(2026, 3, 2)
    start_ms = int(datetime(2026, 3, 2, tzinfo=UTC).timestamp() * 1000)
    for n, (profit, fees, equity) in enumerate([(12.5, 1.5, 1_010.0), (7.5, 0.5, 995.0)]):
        run_id = await ask_for_run(sessions, client, status="running" if n else "stopped")
        state = [0.0] * core.STATE_SIZE
        state[core.GRID_PROFIT], state[core.FEES], state[core.EQUITY] = profit, fees, equity
        state[core.INVESTMENT], state[core.ROUND_TRIPS] = 1_000.0, 3
        store = SqlRunStore(sessions, client, run_id)
        fills = [
            FillRecord(f"t{n}-{i}", f"c{n}-{i}", Side.BUY, 1, 95_000.0, 0.001, 0.1, "USDT", ts)
            for i, ts in enumerate([start_ms + 5, start_ms + 86_400_000 + 5])
        ]
        await store.record_fills(fills, [], state, start_ms)
    async with worker_state(worker_env, options("http://127.0.0.1:9")) as worker:
        assert await summarise_day(worker, day) >= 1
        await summarise_day(worker, day)
    entries = await _trail(sessions, client, "daily_pnl")
    assert len(entries) == 1
    assert entries[0].target == "day 2026-03-02"
    details = entries[0].details
    assert (details["runs"], details["running"], details["fills"]) == (2, 1, 2)
    assert (details["realised"], details["fees"], details["round_trips"]) == (20.0, 2.0, 6.0)
    assert (details["equity"], details["investment"], details["pnl"]) == (2_005.0, 2_000.0, 5.0)
    assert details["realised_change"] == 20.0


async def test_the_sweeper_enqueues_runs_whose_job_was_lost_and_no_other(worker_env, sessions):
    client = await paper_client(sessions)
    lost = await ask_for_run(sessions, client)
    driven = await ask_for_run(sessions, client, status="running")
    async with transaction(sessions) as session:  # a run of ``tradebot run``: no start request
        session.add(
            BotRun(
                id=f"cli-{lost}", client_id=client, mode="paper", exchange="binance",
                pair="BTC/USDT", status="running", config={}, base_ts=0,
            )
        )  # fmt: skip
    async with worker_state(worker_env, options("http://127.0.0.1:9")) as state:
        lease = RunLease(
            state.redis, worker_env.REDIS_PREFIX, driven, run_job_id(driven), 60_000, "other"
        )
        assert await lease.acquire()
        await sweep_runs(state)
        again = await sweep_runs(state)
        jobs = [await state.redis.exists(job_key_prefix + run_job_id(r)) for r in (lost, driven)]
        cli = await state.redis.exists(job_key_prefix + run_job_id(f"cli-{lost}"))
        await lease.release()
    assert jobs == [1, 0]
    assert cli == 0
    assert again == 0
    redis = Redis.from_url(worker_env.REDIS_URL)
    try:
        await redis.delete(job_key_prefix + run_job_id(lost))
    finally:
        await redis.aclose()


def test_the_sweeper_runs_at_start_and_every_five_seconds_unless_told_not_to(worker_env):
    def crons(sweep: bool) -> dict[str, object]:
        config = worker_settings(worker_env, options("http://127.0.0.1:9", sweep=sweep))
        return {job.name: (job.second, job.run_at_startup) for job in config["cron_jobs"]}

    assert crons(True)["cron:reap_runs"] == (set(range(0, 60, 5)), True)
    assert "cron:reap_runs" not in crons(False)
    assert "cron:daily_pnl" in crons(False)  # the other crons stay
