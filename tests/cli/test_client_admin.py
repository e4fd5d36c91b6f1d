"""``tradebot client-admin`` end to end on PostgreSQL (and the SQLite default), and bad input:
one line, a non-zero exit, nothing changed."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import subprocess
import sys

import pytest
from sqlalchemy import select

from tests.clients.factories import snapshot
from tests.venues.sim_fixtures import (
    KEY,
    OTHER_KEY,
    OTHER_SECRET,
    SECRET,
    SimThread,
    account,
    control,
    sim_config,
)
from tradebot.cli.main import main
from tradebot.db import create_engine, session_factory, transaction
from tradebot.models.clients import AuditLog
from tradebot.models.runs import BotGuardState

API_KEY = "CLIKEY00000000001234"
API_SECRET = "cli-secret-do-not-print"
LIMITS = '{"risk": {"bankrollUsd": 5000}, "guard": {"maxRunLossUsd": 250}}'


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def admin_env(monkeypatch, tmp_path):
    """Environment of an operator: returns a function that points it at a database."""
    for name in ("PG_URL", "CLIENT_MASTER_KEY", "NEW_CLIENT_MASTER_KEY", "CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("RUN_OWNER", "ops@example.com")

    def use(pg_url: str | None, master_key: str | None) -> None:
        for name, value in (("PG_URL", pg_url), ("CLIENT_MASTER_KEY", master_key)):
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)

    return use


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["client-admin", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _state(url: str):
    async def read():
        engine = create_engine(url)
        try:
            return await snapshot(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _kill_switch(url: str, client_id: str) -> list[str]:
    """The guards of the client's kill switch (guard rows of no run) that are active."""

    async def read():
        engine = create_engine(url)
        try:
            async with transaction(session_factory(engine)) as session:
                rows = await session.execute(
                    select(BotGuardState.guard).where(
                        BotGuardState.client_id == client_id,
                        BotGuardState.run_id.is_(None),
                        BotGuardState.active.is_(True),
                    )
                )
                return [str(guard) for guard in rows.scalars()]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _audit(url: str) -> list[tuple[str | None, str, str, str]]:
    async def read():
        engine = create_engine(url)
        try:
            async with transaction(session_factory(engine)) as session:
                rows = await session.execute(
                    select(
                        AuditLog.client_id, AuditLog.actor, AuditLog.action, AuditLog.target
                    ).order_by(AuditLog.id)
                )
                return [tuple(row) for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_every_verb_end_to_end_on_postgresql(admin_env, migrated_pg_url, capsys, monkeypatch):
    old_key = _key()
    admin_env(migrated_pg_url, old_key)
    code, out, _ = _run(
        capsys, "upsert-client", "--id", "acme", "--name", "Acme", "--owner", "a@acme.test",
        "--plan", "pro", "--limits", LIMITS,
    )  # fmt: skip
    assert (code, out) == (0, "created client acme (pro, active)\n")
    code, out, _ = _run(capsys, "upsert-client", "--id", "acme", "--status", "suspended")
    assert (code, out) == (0, "updated client acme (pro, suspended)\n")

    code, out, _ = _run(capsys, "list-clients")
    assert code == 0
    assert out.splitlines()[0].split() == ["id", "name", "owner", "plan", "status"]
    assert ["acme", "Acme", "a@acme.test", "pro", "suspended"] in [
        line.split() for line in out.splitlines()
    ]

    code, out, err = _run(
        capsys, "store-credentials", "--id", "acme", "--exchange", "binance",
        "--api-key", API_KEY, "--api-secret", API_SECRET, "--skip-exchange-check",
        "--actor", "alice",
    )  # fmt: skip
    assert code == 0
    assert "paper runs only" in err
    assert out == (
        "stored binance/main key ****1234 for client acme (unverified, master key version 1)\n"
    )

    code, out, _ = _run(capsys, "list-credentials", "--id", "acme", "--json")
    (listed,) = json.loads(out)
    assert (listed["exchange"], listed["key_id"], listed["key_version"]) == (
        "binance",
        "****1234",
        1,
    )

    code, out, _ = _run(capsys, "show-client", "--id", "acme", "--json")
    shown = json.loads(out)
    assert shown["limits"] == {"risk": {"bankrollUsd": 5000.0}, "guard": {"maxRunLossUsd": 250.0}}
    assert shown["credentials"][0]["key_id"] == "****1234"
    code, out, _ = _run(capsys, "show-client", "--id", "acme")
    assert "binance/main ****1234 (unverified)" in out

    new_key = _key()
    monkeypatch.setenv("NEW_CLIENT_MASTER_KEY", new_key)
    code, out, err = _run(capsys, "rotate-master-key")
    assert code == 0
    assert "version 1 -> 2, 1 stored keys re-encrypted" in out
    assert err == "re-encrypted 1/1\n"

    admin_env(migrated_pg_url, new_key)
    code, out, _ = _run(capsys, "list-credentials", "--id", "acme")
    assert code == 0
    assert "****1234" in out
    for secret in (API_SECRET, old_key, new_key, API_KEY):
        assert secret not in out
    assert _audit(migrated_pg_url) == [
        ("acme", "ops@example.com", "client_upserted", "client acme"),
        ("acme", "ops@example.com", "client_upserted", "client acme"),
        ("acme", "alice", "credentials_stored", "binance/main"),
        (None, "ops@example.com", "master_key_rotated", "master key version 2"),
    ]


def test_the_documented_invocation_runs_as_a_process(pg_url, master_key, tmp_path):
    env = {
        **os.environ,
        "PG_URL": pg_url,
        "CLIENT_MASTER_KEY": master_key,
        "DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "tradebot.cli.main", "client-admin", "list-credentials",
         "--id", "default", "--json"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)


def test_without_pg_url_the_sqlite_default_is_created_and_migrated(admin_env, tmp_path, capsys):
    admin_env(None, None)
    code, out, _ = _run(capsys, "list-clients", "--json")
    assert code == 0
    assert [c["id"] for c in json.loads(out)] == ["default"]
    assert (tmp_path / "var" / "tradebot.db").exists()


BAD_INPUT = [
    (["upsert-client", "--id", "acme", "--limits", '{"risk": {'], "limits: not valid JSON"),
    (
        ["upsert-client", "--id", "acme", "--limits", '{"guard": {"maxRunLossUsd": "x"}}'],
        "limits.guard.maxRunLossUsd: Input should be a valid number",
    ),
    (["upsert-client", "--id", "acme", "--limits", '{"risc": {}}'], "limits.risc: Extra inputs"),
    (["upsert-client", "--id", "acme", "--plan", "gold"], "plan 'gold': one of trial, starter"),
    (["upsert-client", "--id", "no such id"], "client id 'no such id'"),
    (["show-client", "--id", "ghost"], "client 'ghost' not found"),
    (["list-credentials", "--id", "ghost"], "client 'ghost' not found"),
    (
        ["store-credentials", "--id", "ghost", "--exchange", "binance", "--api-key", API_KEY,
         "--api-secret", API_SECRET, "--skip-exchange-check"],
        "client 'ghost' not found",
    ),
    (
        ["store-credentials", "--id", "default", "--exchange", "binance", "--api-key", " ",
         "--api-secret", API_SECRET, "--skip-exchange-check"],
        "the api key is empty",
    ),
    (
        ["store-credentials", "--id", "default", "--exchange", "kraken", "--api-key", API_KEY,
         "--api-secret", API_SECRET],
        "no withdraw-permission check for kraken",
    ),
    (["rotate-master-key"], "NEW_CLIENT_MASTER_KEY is not set"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), BAD_INPUT)
def test_bad_input_is_one_line_and_changes_nothing(
    admin_env, pg_url, master_key, capsys, argv, message
):
    admin_env(pg_url, master_key)
    before = _state(pg_url)
    code, out, err = _run(capsys, *argv)
    lines = [line for line in err.splitlines() if not line.startswith("tradebot: warning:")]
    assert code == 2
    assert len(lines) == 1, err
    assert lines[0].startswith("tradebot: error: ")
    assert message in lines[0]
    assert out == ""
    assert _state(pg_url) == before


def test_wrong_master_key_is_one_line_and_changes_nothing(admin_env, pg_url, master_key, capsys):
    admin_env(pg_url, master_key)
    stored = _run(
        capsys, "store-credentials", "--id", "default", "--exchange", "kraken",
        "--api-key", API_KEY, "--api-secret", API_SECRET, "--skip-exchange-check",
    )  # fmt: skip
    assert stored[0] == 0
    before = _state(pg_url)
    wrong = _key()
    admin_env(pg_url, wrong)
    code, _, err = _run(
        capsys, "store-credentials", "--id", "default", "--exchange", "kraken",
        "--api-key", "OTHERKEY000000009999", "--api-secret", "x", "--skip-exchange-check",
    )  # fmt: skip
    assert code == 2
    assert err.splitlines()[-1] == (
        "tradebot: error: CLIENT_MASTER_KEY does not open master key version 1; nothing was changed"
    )
    assert wrong not in err
    assert _state(pg_url) == before
    assert _run(capsys, "rotate-master-key", "--new-key", _key())[0] == 2
    assert _state(pg_url) == before


def _store(capsys, url: str, key: str, secret: str, client: str = "default"):
    return _run(
        capsys, "store-credentials", "--id", client, "--exchange", "binance", "--api-key", key,
        "--api-secret", secret, "--sandbox-url", url, "--label", key,
    )  # fmt: skip


def test_cli_stores_a_checked_key_as_active_and_refuses_a_withdraw_key(
    admin_env, migrated_pg_url, master_key, capsys
):
    # A database of its own: the refusal trips the "default" client's kill switch, which
    # would block the other tests' runs on a shared one.
    admin_env(migrated_pg_url, master_key)
    config = sim_config(accounts=[account(), account(OTHER_KEY, OTHER_SECRET)])
    with SimThread(config) as sim:
        sim_thread_url = sim.url
        code, out, err = _store(capsys, sim_thread_url, KEY, SECRET)
        assert (code, err) == (0, "")
        assert "(active, master key version" in out
        asyncio.run(
            control(
                sim_thread_url,
                "POST",
                f"/_sim/accounts/{OTHER_KEY}/permissions",
                {"enableWithdrawals": True},
            )
        )
        before = _state(migrated_pg_url)
        code, out, err = _store(capsys, sim_thread_url, OTHER_KEY, OTHER_SECRET)
    assert code == 2
    assert out == ""
    assert err == (
        "tradebot: error: the binance key has withdrawals enabled: create a key with "
        "withdrawals disabled (trading only)\n"
    )
    # Nothing stored; the refusal is audited and the client's kill switch is tripped.
    after = _state(migrated_pg_url)
    refusal = after["audit_log"][-1]
    assert refusal[1:] == ("default", "credentials_refused_withdraw")
    assert {**after, "audit_log": after["audit_log"][:-1]} == before
    assert _kill_switch(migrated_pg_url, "default") == ["key_permissions"]
