"""The kill switch over HTTP: a run, a client or everyone stopped with a token, the reason and
the operator in the audit trail, and still tripped after the server restarts."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.fixtures import free_port
from tests.ops.conftest import ops_server
from tests.workers.fixtures import ask_for_run, paper_client, run_row
from tradebot.config import Settings
from tradebot.db import transaction
from tradebot.models.clients import AuditLog
from tradebot.models.runs import BotGuardState


async def _active_guards(
    sessions: async_sessionmaker[AsyncSession], client_id: str
) -> list[tuple[str | None, str]]:
    async with transaction(sessions) as session:
        rows = await session.execute(
            select(BotGuardState.run_id, BotGuardState.reason).where(
                BotGuardState.client_id == client_id,  # type: ignore[arg-type]
                BotGuardState.active.is_(True),  # type: ignore[attr-defined]
            )
        )
        return sorted(rows.tuples().all(), key=str)


async def _audit(
    sessions: async_sessionmaker[AsyncSession], client_id: str
) -> list[tuple[str, str, str, str]]:
    async with transaction(sessions) as session:
        rows = (
            await session.execute(
                select(AuditLog)
                .where(AuditLog.client_id == client_id)  # type: ignore[arg-type]
                .order_by(AuditLog.id)  # type: ignore[arg-type]
            )
        ).scalars()
        return [(r.actor, r.action, r.target, r.details.get("reason", "")) for r in rows]


def _guards_shown(server_status: dict[str, object], run_id: str) -> list[str]:
    runs = server_status["runs"]
    assert isinstance(runs, list)
    return next(run["guards"] for run in runs if run["run_id"] == run_id)


async def test_trip_and_reset_a_run_a_client_and_everyone_surviving_a_restart(
    pg_url: str, worker_env: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first, second = await paper_client(sessions), await paper_client(sessions)
    run_a, run_b = await ask_for_run(sessions, first), await ask_for_run(sessions, first)
    run_c = await ask_for_run(sessions, second)
    ports = (free_port(), free_port())

    with ops_server(pg_url, worker_env.RUN_QUEUE_NAME, ports) as ops:
        trip = f"{ops.kill_switch}/kill-switch/trip"
        body = {"reach": "run", "target": run_a, "reason": "fat finger", "actor": "alice"}
        assert httpx.post(trip, json=body).status_code == 401
        wrong = {"Authorization": "Bearer not-the-token"}
        assert httpx.post(trip, json=body, headers=wrong).status_code == 401

        tripped = httpx.post(trip, json=body, headers=ops.auth)
        assert tripped.status_code == 200, tripped.text
        assert tripped.json()["runs_stopped"] == [run_a]
        whole = {"reach": "client", "target": second, "reason": "exchange incident", "actor": "bob"}
        assert httpx.post(trip, json=whole, headers=ops.auth).status_code == 200
        unknown = {**body, "target": "no-such-run"}
        assert httpx.post(trip, json=unknown, headers=ops.auth).status_code == 404

    assert (await run_row(sessions, run_a)).status == "stopped"  # not taken yet: ended at once
    assert (await run_row(sessions, run_b)).status == "created"  # the run alone, not its client
    assert await _active_guards(sessions, first) == [(run_a, "fat finger")]
    assert await _active_guards(sessions, second) == [(None, "exchange incident")]

    with ops_server(pg_url, worker_env.RUN_QUEUE_NAME, ports) as ops:  # the same ports, anew
        status = httpx.get(f"{ops.dashboard}/api/status", headers=ops.auth).json()
        assert _guards_shown(status, run_a) == ["kill_switch: fat finger"]
        assert _guards_shown(status, run_b) == []
        assert _guards_shown(status, run_c) == ["kill_switch: exchange incident"]

        reset = f"{ops.kill_switch}/kill-switch/reset"
        one = {"reach": "run", "target": run_a, "reason": "checked", "actor": "alice"}
        assert httpx.post(reset, json=one, headers=ops.auth).json()["guards_reset"] == 1
        everyone = {"reach": "all", "reason": "incident over", "actor": "bob"}
        answer = httpx.post(reset, json=everyone, headers=ops.auth).json()
        assert second in answer["clients"]
        assert first not in answer["clients"]  # nothing of it was tripped any more

    assert await _active_guards(sessions, first) == []
    assert await _active_guards(sessions, second) == []
    assert (await _audit(sessions, first))[1:] == [  # after the client's creation
        ("ops:alice", "run_stop_requested", f"run {run_a}", "kill switch: fat finger"),
        ("ops:alice", "kill_switch_tripped", f"run {run_a}", "fat finger"),
        ("ops:alice", "guards_reset", f"run {run_a}", "checked"),
    ]
    trail = await _audit(sessions, second)
    assert ("ops:bob", "kill_switch_tripped", f"client {second}", "exchange incident") in trail
    assert trail[-1] == ("ops:bob", "guards_reset", f"client {second}", "incident over")
