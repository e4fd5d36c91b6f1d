"""Settings: every seed variable has a default; a bad value is one line naming the variable."""

from __future__ import annotations

import pytest

from tradebot.cli.main import main
from tradebot.config import Settings, load_settings
from tradebot.errors import ConfigError

SEED_VARIABLES = [
    "PAPER_MODE",
    "BANKROLL_USD",
    "MAX_PER_TRADE_PCT",
    "PER_TRADE_USD",
    "DEFAULT_EXCHANGE",
    "SUMMARY_JSON_PATH",
    "SUMMARY_JSON_EXPORT",
    "SUMMARY_ONLY",
    "PAPER_MODE_BASE_TS",
    "RUN_ID",
    "RUN_OWNER",
    "CLIENT_ID",
    "CLIENT_MASTER_KEY",
    "ORDER_CONCURRENCY",
    "ORDER_RATE_INTERVAL_MS",
    "ORDER_POLL_INTERVAL_MS",
    "REPLACE_TIMEOUT_MS",
    "REPLACE_SLIPPAGE_PCT",
    "REPLACE_MAX_RETRIES",
    "MAX_GLOBAL_DRAWDOWN_USD",
    "MAX_RUN_LOSS_USD",
    "MAX_API_ERRORS_PER_MIN",
    "STALE_TICKER_MS",
    "METRICS_PORT",
    "KILL_SWITCH_PORT",
    "DASHBOARD_PORT",
    "LOG_INGEST_WEBHOOK",
    "WALKFORWARD_CONFIG",
    "PG_URL",
    "GRID_PAIR",
    "GRID_LOWER",
    "GRID_UPPER",
    "GRID_STEPS",
    "GRID_SPACING",
    "TP",
]


def test_every_seed_variable_has_a_default():
    fields = Settings.model_fields
    assert set(SEED_VARIABLES) <= set(fields)
    settings = Settings()
    assert settings.PAPER_MODE is True
    assert settings.CLIENT_ID == "default"


def test_plan_json_path_is_an_alias_of_summary_json_path(monkeypatch):
    monkeypatch.setenv("PLAN_JSON_PATH", "plans/p.json")
    assert str(load_settings().SUMMARY_JSON_PATH) == "plans/p.json"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ORDER_CONCURRENCY", "many", "ORDER_CONCURRENCY: Input should be a valid integer"),
        ("PAPER_MODE", "perhaps", "PAPER_MODE: Input should be a valid boolean"),
        ("MAX_PER_TRADE_PCT", "150", "MAX_PER_TRADE_PCT: Input should be less than or equal"),
        ("GRID_SPACING", "spiral", "GRID_SPACING: Input should be 'arithmetic' or 'geometric'"),
        ("PG_URL", "mysql://x", "PG_URL: Value error, must be a postgresql:// (or sqlite://) URL"),
        ("METRICS_PORT", "70000", "METRICS_PORT: Input should be less than or equal to 65535"),
    ],
)
def test_a_bad_value_names_its_variable(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_a_bad_value_stops_the_cli_with_one_line(monkeypatch, capsys):
    monkeypatch.setenv("BANKROLL_USD", "-5")
    assert main(["plan"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["tradebot: error: BANKROLL_USD: Input should be greater than 0 (got '-5')"]


def test_the_master_key_is_never_echoed(monkeypatch):
    monkeypatch.setenv("CLIENT_MASTER_KEY", "")
    monkeypatch.setenv("ORDER_CONCURRENCY", "0")
    with pytest.raises(ConfigError) as caught:
        load_settings(CLIENT_MASTER_KEY="s3cret-value")
    assert "s3cret" not in str(caught.value)


def test_summary_only_plan_export(monkeypatch, tmp_path, capsys):
    target = tmp_path / "planned_summary.json"
    monkeypatch.setenv("SUMMARY_JSON_EXPORT", "true")
    monkeypatch.setenv("SUMMARY_JSON_PATH", str(target))
    assert main(["plan", "--price", "96000"]) == 0
    import json

    summary = json.loads(target.read_text())
    assert summary["lines"] == 20
    assert summary["empty_line"] == 8
    assert summary["profit_per_grid_pct_min"] > 0
    assert "Grid plan" in capsys.readouterr().out
