"""The Kubernetes manifests in infra/k8s: valid against the Kubernetes API's schemas
(kubernetes-validate, strict: an unknown field is an error), the KEDA ScaledObject against the
schema of KEDA's custom resource kept beside them, and each against the code it runs: the
commands parse, the variables are settings, the metric the scaler asks for is exported, and a
worker's grace period outlasts its drain."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from prometheus_client import REGISTRY

from tradebot.cli.main import build_parser
from tradebot.config import Settings
from tradebot.observability import metrics
from tradebot.workers.state import WorkerOptions

K8S = Path(__file__).resolve().parents[2] / "infra" / "k8s"
KUBERNETES = "1.30.0"
"""The oldest version the manifests must suit (preStop's sleep action is beta, on, from 1.30)."""
KEDA_SCHEMA = K8S / "schemas" / "keda-scaledobject-v1alpha1.json"
DRAIN_MARGIN_S = 15
"""A tick and the job's hand-back after the worker's shutdown wait, with room to spare."""


def _documents() -> list[dict[str, Any]]:
    found = [
        document
        for path in sorted(K8S.glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]
    assert found
    return found


def _one(kind: str, name: str) -> dict[str, Any]:
    (found,) = [d for d in _documents() if (d["kind"], d["metadata"]["name"]) == (kind, name)]
    return found


def _container(name: str) -> dict[str, Any]:
    (container,) = _one("Deployment", name)["spec"]["template"]["spec"]["containers"]
    return container


def _scaled_object() -> dict[str, Any]:
    return _one("ScaledObject", "tradebot-worker")


def test_every_kubernetes_resource_is_valid_for_the_api_server() -> None:
    native = [d for d in _documents() if not d["apiVersion"].startswith("keda.sh/")]
    assert {d["kind"] for d in native} == {"ConfigMap", "Deployment", "Service"}
    for document in native:
        kubernetes_validate.validate(document, KUBERNETES, strict=True)


def test_a_misspelt_field_is_refused() -> None:
    broken = copy.deepcopy(_one("Deployment", "tradebot-worker"))
    broken["spec"]["template"]["spec"]["terminationGracePeriod"] = 60
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)
    scaled = copy.deepcopy(_scaled_object())
    scaled["spec"]["minReplicas"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(scaled, json.loads(KEDA_SCHEMA.read_text()))


def test_the_scaled_object_follows_kedas_schema_and_scales_the_workers_on_the_queue() -> None:
    scaled = _scaled_object()
    jsonschema.validate(scaled, json.loads(KEDA_SCHEMA.read_text()))
    spec = scaled["spec"]
    target = spec["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "tradebot-worker")
    assert _one("Deployment", target["name"])
    assert spec["minReplicaCount"] == 1  # someone reports the depth and takes new runs
    assert spec["maxReplicaCount"] > spec["minReplicaCount"]
    (trigger,) = spec["triggers"]
    assert (trigger["type"], trigger["metricType"]) == ("prometheus", "AverageValue")
    query = trigger["metadata"]["query"]
    assert metrics.RUN_QUEUE_DEPTH is not None
    assert "tradebot_run_queue_depth" in query
    assert "tradebot_run_queue_depth" in {family.name for family in REGISTRY.collect()}
    worker_args = build_parser().parse_args(_container("tradebot-worker")["args"])
    # Runs per worker the scaler aims at: under what one worker takes, so new runs find room.
    assert 0 < float(trigger["metadata"]["threshold"]) < worker_args.max_jobs


def test_a_leaving_worker_has_time_to_drain() -> None:
    pod = _one("Deployment", "tradebot-worker")["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] >= WorkerOptions().shutdown_wait_s + DRAIN_MARGIN_S


def test_the_commands_parse_and_the_variables_and_ports_are_the_codes() -> None:
    parser = build_parser()
    for name in ("tradebot-api", "tradebot-worker"):
        container = _container(name)
        assert parser.parse_args(container["args"]).command == container["args"][0]
        for source in container["envFrom"]:
            reference = source.get("configMapRef") or source.get("secretRef")
            assert reference["name"] in ("tradebot-config", "tradebot-secrets")
    config = _one("ConfigMap", "tradebot-config")["data"]
    assert set(config) <= set(Settings.model_fields) | {"LOG_LEVEL"}
    settings = Settings.model_validate(config)
    (metrics_port,) = _container("tradebot-worker")["ports"]
    assert metrics_port["containerPort"] == settings.METRICS_PORT
    api_args = parser.parse_args(_container("tradebot-api")["args"])
    (http,) = _container("tradebot-api")["ports"]
    assert http["containerPort"] == api_args.port
