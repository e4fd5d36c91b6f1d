"""The stack's files against the code: docker-compose.yml's commands, variables and ports,
``.env.example``, and the metrics named by the Prometheus alert rules and the Grafana
dashboard (no container engine runs here, so these are read, not started)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY

from tradebot.api.app import create_app
from tradebot.cli.main import COMMANDS
from tradebot.config import Settings
from tradebot.observability import metrics

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD", "AUTH0_SPA_CLIENT_ID"}
"""Variables of the stack itself, not settings of the app."""
READ_BEFORE_SETTINGS = {"LOG_LEVEL"}
"""Read by ``tradebot.cli.main`` itself (the logging set-up precedes the settings)."""
METRIC = re.compile(r"\b(?:tradebot|http)_[a-z0-9_]+\b")


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return loaded


def _app_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return {
        name: service
        for name, service in services.items()
        if service.get("build", {}).get("dockerfile") == "infra/Dockerfile"
    }


def _exported_series() -> set[str]:
    """Every series name this code can export: ours and the API's HTTP metrics."""
    # The instrumentator registers its metrics when the app's middleware stack is built.
    create_app(Settings()).build_middleware_stack()
    assert metrics.ORDERS_SUBMITTED is not None  # ours are registered on import
    names = set()
    for family in REGISTRY.collect():
        suffixes = {
            "counter": ["_total", "_created"],
            "histogram": ["_bucket", "_count", "_sum", "_created"],
            "gauge": [""],
        }.get(family.type, [""])
        names |= {family.name + suffix for suffix in suffixes}
    return names


def test_every_app_service_runs_a_real_command_with_settings_that_exist() -> None:
    fields = set(Settings.model_fields)
    for name, service in _app_services().items():
        assert service["command"][0] in COMMANDS, name
        unknown = set(service.get("environment", {})) - fields - READ_BEFORE_SETTINGS
        assert not unknown, f"{name} sets variables no setting reads: {unknown}"
    api = _app_services()["api"]["environment"]
    assert api["EXCHANGE_SANDBOX_URL"] == "http://exchange-sim:8900"
    assert "--sandbox-url" in _app_services()["worker"]["command"]


def test_every_variable_the_compose_file_reads_is_documented_in_env_example() -> None:
    example = (REPO / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", (REPO / "docker-compose.yml").read_text()))
    assert used <= documented, used - documented
    assert documented - COMPOSE_ONLY - READ_BEFORE_SETTINGS <= set(Settings.model_fields)


def test_the_ports_are_the_settings_defaults() -> None:
    defaults = Settings.model_fields
    ops = _app_services()["ops"]["ports"]
    kill, dashboard = defaults["KILL_SWITCH_PORT"].default, defaults["DASHBOARD_PORT"].default
    assert f"{kill}:{kill}" in ops
    assert f"{dashboard}:{dashboard}" in ops
    metrics_port = defaults["METRICS_PORT"].default
    assert _app_services()["worker"]["expose"] == [str(metrics_port)]
    prometheus = yaml.safe_load((INFRA / "prometheus" / "prometheus.yml").read_text())
    worker_job = next(job for job in prometheus["scrape_configs"] if job["job_name"] == "worker")
    assert worker_job["dns_sd_configs"][0]["port"] == metrics_port


def test_alert_rules_parse_and_name_metrics_that_exist() -> None:
    exported = _exported_series()
    rules = yaml.safe_load((INFRA / "prometheus" / "alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert {rule["alert"] for rule in alerts} >= {
        "GuardTripped",
        "ExchangeErrorBurst",
        "StaleTicker",
        "RunQueueBacklog",
        "LeaseLosses",
        "LogWebhookDrops",
    }
    for rule in alerts:
        named = set(METRIC.findall(rule["expr"]))
        assert named, rule["alert"]
        assert named <= exported, f"{rule['alert']}: {named - exported}"
        assert rule["labels"]["severity"] in {"page", "warn"}


def test_the_alert_rules_fire_as_their_unit_tests_say() -> None:
    promtool = shutil.which("promtool")
    assert promtool is not None, (
        "promtool is missing (make test installs it: infra/ensure-services.sh)"
    )
    checked = subprocess.run(
        [promtool, "test", "rules", "alerts_test.yml"],
        cwd=INFRA / "prometheus",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_grafana_dashboard_queries_metrics_that_exist() -> None:
    exported = _exported_series()
    dashboard = json.loads((INFRA / "grafana" / "dashboards" / "tradebot.json").read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    queries += [v["definition"] for v in dashboard["templating"]["list"]]
    assert len(queries) > 20
    for query in queries:
        named = set(METRIC.findall(query))
        assert named, query
        assert named <= exported, f"{query}: {named - exported}"
