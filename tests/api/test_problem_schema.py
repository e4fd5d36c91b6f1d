"""The problem body every error is sent as is in the OpenAPI: a ``ProblemDetail`` on each
operation's 422 and on its other 4xx and 5xx answers (so the portal's generated client types
its errors), and the bodies the API really sends have that schema's fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.api.factories import customer
from tradebot.api.problems import MEDIA_TYPE

PROBLEM = {"$ref": "#/components/schemas/ProblemDetail"}


def _conforms(body: dict[str, Any], spec: dict[str, Any]) -> None:
    """``body`` has the ProblemDetail's required fields with their types, and field errors."""
    schema = spec["components"]["schemas"]["ProblemDetail"]
    types = {"string": str, "integer": int, "array": list}
    for name in schema["required"]:
        assert name in body, (name, body)
    for name, value in body.items():
        declared = schema["properties"].get(name)
        if declared is not None:
            assert isinstance(value, types[declared["type"]]), (name, value)
    field_error = spec["components"]["schemas"]["ProblemFieldError"]
    for error in body.get("errors", []):
        assert set(field_error["required"]) <= set(error), error
        assert all(isinstance(part, str) for part in error["loc"]), error


async def test_every_operation_documents_its_errors_as_problems(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # never sent
    operations = [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    ]
    assert len(operations) > 30
    for path, method, op in operations:
        responses = op["responses"]
        for code in ("4XX", "5XX", *(c for c in responses if c.startswith("4") and c != "4XX")):
            content = responses[code].get("content", {})
            assert content == {MEDIA_TYPE: {"schema": PROBLEM}}, (method, path, code)


async def test_the_problems_the_api_sends_have_the_documented_fields(
    api: httpx.AsyncClient, login: Callable[..., dict[str, str]]
) -> None:
    spec = (await api.get("/openapi.json")).json()
    headers, _ = await customer(api, login)
    bad = {"name": "x", "pair": "BTC/USDT", "grid": {"lower": -1, "upper": 2, "lines": 9999}}
    invalid = await api.post("/bots", json=bad, headers=headers)
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == MEDIA_TYPE
    body = invalid.json()
    _conforms(body, spec)
    assert body["type"] == "/problems/validation"
    assert {tuple(e["loc"]) for e in body["errors"]} >= {("body", "grid", "lower")}
    missing = await api.get("/bots/nosuchbot", headers=headers)
    assert missing.status_code == 404
    _conforms(missing.json(), spec)
    unauthenticated = await api.get("/bots")
    assert unauthenticated.status_code == 401
    _conforms(unauthenticated.json(), spec)
