"""``client-admin list-runs`` and ``reset-guards``: a client's paper run is listed after it ran;
a tripped kill switch is lifted by an operator, in the audit log."""

from __future__ import annotations

import asyncio
import json

from tests.conftest import unique_id
from tradebot.cli.main import main
from tradebot.db import create_engine, session_factory
from tradebot.runs.store import trip_kill_switch


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _trip(url: str, client: str) -> None:
    async def go() -> None:
        engine = create_engine(url)
        try:
            await trip_kill_switch(session_factory(engine), client, "kill_switch", "test", 0)
        finally:
            await engine.dispose()

    asyncio.run(go())


def test_a_clients_paper_run_is_listed_and_its_kill_switch_reset(pg_url, monkeypatch, capsys):
    client = unique_id("runs")
    monkeypatch.setenv("PG_URL", pg_url)
    monkeypatch.delenv("RUN_ID", raising=False)
    assert _run(capsys, "client-admin", "upsert-client", "--id", client, "--plan", "pro")[0] == 0
    monkeypatch.setenv("CLIENT_ID", client)
    assert _run(capsys, "paper", "--days", "0.25", "--quiet", "--run-id", f"{client}-p")[0] == 0
    code, out, err = _run(capsys, "client-admin", "list-runs", "--id", client, "--json")
    assert (code, err) == (0, "")
    runs = json.loads(out)
    assert [(r["run_id"], r["mode"], r["status"]) for r in runs] == [
        (f"{client}-p", "paper", "finished")
    ]
    _trip(pg_url, client)
    code, out, _ = _run(capsys, "client-admin", "reset-guards", "--id", client)
    assert (code, out.strip()) == (0, f"reset 1 guard(s) of client {client}")


def test_list_runs_of_an_unknown_client_is_one_line(pg_url, monkeypatch, capsys):
    monkeypatch.setenv("PG_URL", pg_url)
    code, out, err = _run(capsys, "client-admin", "list-runs", "--id", "nobody-here")
    assert code == 2
    assert out == ""
    assert err == "tradebot: error: client 'nobody-here' not found\n"
