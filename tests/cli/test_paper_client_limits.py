"""``tradebot paper`` trades the grid the client's live run would: the client's limits laid
over the settings the same way. Naive implementation caught: paper sized from the environment
alone (investment 950) while the same client's live run sized from its limits (225), so the
7-day paper gate proved nothing about the live grid."""

from __future__ import annotations

import json

import pytest

from tradebot.cli.main import main
from tradebot.clients.schemas import parse_limits
from tradebot.config import load_settings
from tradebot.models.runs import RunMode
from tradebot.runs.configuration import overlay

LIMITS = {"risk": {"bankrollUsd": 400, "perTradeUsd": 12.5}}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    for name in ("GRID_LOWER", "GRID_UPPER", "GRID_STEPS", "GRID_INVESTMENT", "RUN_ID", "PG_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _client(capsys, client: str, limits: dict, status: str = "active") -> None:
    admin = ["client-admin", "upsert-client", "--id", client, "--plan", "pro"]
    assert main([*admin, "--status", status, "--limits", json.dumps(limits)]) == 0
    capsys.readouterr()


def test_paper_sizes_the_grid_from_the_clients_limits_as_live_does(workdir, capsys, monkeypatch):
    _client(capsys, "limited", LIMITS)
    monkeypatch.setenv("CLIENT_ID", "limited")
    assert main(["paper", "--days", "0.2", "--quiet", "--json", "r.json"]) == 0
    paper = json.loads((workdir / "r.json").read_text())
    live = overlay(load_settings(), parse_limits(LIMITS), "limited", RunMode.LIVE)
    assert live.investment() == 12.5 * 19
    assert paper["investment"] == live.investment()
    # The environment alone (the default client, no limits) gives another grid.
    monkeypatch.setenv("CLIENT_ID", "default")
    assert main(["paper", "--days", "0.2", "--quiet", "--json", "d.json"]) == 0
    assert json.loads((workdir / "d.json").read_text())["investment"] == 50 * 19


def test_paper_is_refused_where_live_would_be(workdir, capsys, monkeypatch):
    _client(capsys, "paused", {}, status="suspended")
    monkeypatch.setenv("CLIENT_ID", "paused")
    assert main(["paper", "--days", "0.2", "--quiet"]) == 2
    assert capsys.readouterr().err == "tradebot: error: client 'paused' is suspended: no runs\n"
