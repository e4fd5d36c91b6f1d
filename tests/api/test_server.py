"""``tradebot api`` as a real uvicorn process on loopback, and schemathesis against its OpenAPI.

Schemathesis generates requests for every operation (bounded: a few examples each) with a
customer's token and checks that none gets a 5xx.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from tests.api.fakes import Issuer
from tests.api.fixtures import ADMIN_TOKEN


def test_cli_serves_openapi_with_stable_operation_ids(served_api: str) -> None:
    spec = httpx.get(served_api + "openapi.json").json()
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+-[a-z_]+", op) for op in ids), ids
    assert "admin-list_clients" in ids
    assert "webhooks-stripe_webhook" in ids


@pytest.fixture(scope="module")
def api_schema(served_api: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(served_api + "openapi.json")


@pytest.fixture(scope="module")
def customer_headers(issuer: Issuer) -> dict[str, str]:
    token = issuer.token(f"auth0|schemathesis-{secrets.token_hex(4)}", exp=int(time.time()) + 3600)
    return {"Authorization": f"Bearer {token}"}


def test_no_operation_answers_5xx(
    api_schema: schemathesis.BaseSchema, served_api: str, customer_headers: dict[str, str]
) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    failures: list[str] = []

    def fuzz(operation: Any, headers: dict[str, str]) -> None:
        @given(case=operation.as_strategy())
        @settings(
            max_examples=4,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            response = case.call(base_url=served_api.rstrip("/"), headers=headers)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.body!r}: {response.text}"
                )

        call()

    for result in api_schema.get_all_operations():
        operation = result.ok()
        fuzz(operation, admin if "admin" in (operation.tags or []) else customer_headers)
    assert failures == []
