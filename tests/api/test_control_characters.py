"""NUL and other control characters, in every string the API takes, never get a 5xx.

Against ``tradebot api`` as its own uvicorn process (the served_api fixture): schemathesis
generates requests for every operation, and each string it put in a body, a query or a path
(plus every string property of the body's schema it left out) is sent again holding control
characters drawn by hypothesis, one field at a time, so a refusal of one field never hides
another. A field a person types refuses them with a 422 problem body; whatever the schema lets
through is refused by the database and mapped to a 4xx, never a 500.

Naive implementation caught: ``{"name": "a\\u0000b"}`` on ``POST /bots``, a NUL ``reason`` on
``POST /kill-switch``, ``?status=a%00b`` on ``/admin/runs`` (asyncpg's error arrives as a
``DBAPIError``), an exchange key holding ``\\r\\n`` (aiohttp refuses the header): all 500.
"""

from __future__ import annotations

import copy
import secrets
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.api.fakes import Issuer
from tests.api.fixtures import ADMIN_TOKEN

Slot = tuple[str, tuple[str | int, ...]]
"""Where a string sits in a request: ("body" | "query" | "path", keys down to it)."""

CONTROL = st.text(st.characters(categories=["Cc"]), min_size=1, max_size=4)
EXAMPLES_PER_OPERATION = 4
BUDGET_S = 50.0


@pytest.fixture(scope="module")
def spec(served_api: str) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(served_api + "openapi.json").json()
    return document


@pytest.fixture(scope="module")
def customer(issuer: Issuer) -> dict[str, str]:
    token = issuer.token(f"auth0|control-{secrets.token_hex(4)}", exp=int(time.time()) + 3600)
    return {"Authorization": f"Bearer {token}"}


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    for union in ("anyOf", "oneOf", "allOf"):
        if union in schema:
            options = [_resolve(spec, option) for option in schema[union]]
            kept = [option for option in options if option.get("type") != "null"]
            return kept[0] if kept else schema
    return schema


def _string_properties(spec: dict[str, Any], schema: dict[str, Any]) -> Iterator[str]:
    for name, prop in _resolve(spec, schema).get("properties", {}).items():
        if _resolve(spec, prop).get("type") == "string":
            yield name


def _leaves(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))


def _query_strings(spec: dict[str, Any], raw: dict[str, Any]) -> list[str]:
    """The operation's string query parameters."""
    return [
        p["name"]
        for p in raw.get("parameters", [])
        if p.get("in") == "query" and _resolve(spec, p.get("schema", {})).get("type") == "string"
    ]


def _slots(
    case: schemathesis.Case,
    body_schema: dict[str, Any] | None,
    spec: dict[str, Any],
    query_strings: list[str],
):
    """Every string of the request, and the schema's top-level string properties and string
    query parameters left out (an optional one is tried whether the examples drew it or not)."""
    if isinstance(case.body, dict):
        for path in _leaves(case.body):
            yield "body", path
        if body_schema is not None:
            for name in _string_properties(spec, body_schema):
                if name not in case.body:
                    yield "body", (name,)
    for name, value in (case.query or {}).items():
        if isinstance(value, str):
            yield "query", (name,)
    for name in query_strings:
        if name not in (case.query or {}):
            yield "query", (name,)
    for name in case.path_parameters or {}:
        yield "path", (name,)


def _with(container: Any, path: tuple[str | int, ...], value: str) -> Any:
    changed = copy.deepcopy(container)
    node = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


def _send(
    client: httpx.Client, case: schemathesis.Case, slot: Slot | None, value: str, headers: dict
) -> httpx.Response:
    body, query = case.body, dict(case.query or {})
    path_parameters = {k: str(v) for k, v in (case.path_parameters or {}).items()}
    if slot is not None:
        where, keys = slot
        if where == "body":
            body = _with(body, keys, value)
        elif where == "query":
            query[str(keys[0])] = value
        else:
            path_parameters[str(keys[0])] = value
    path = case.path.format(
        **{k: urllib.parse.quote(v, safe="") for k, v in path_parameters.items()}
    )
    kwargs: dict[str, Any] = {"params": query, "headers": headers}
    if isinstance(body, dict | list):
        kwargs["json"] = body
    return client.request(case.method, path.lstrip("/"), **kwargs)


def test_control_characters_in_any_string_field_never_get_a_5xx(
    served_api: str, spec: dict[str, Any], customer: dict[str, str]
) -> None:
    schema = schemathesis.openapi.from_dict(spec)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    failures: list[str] = []
    refused_at_the_schema: set[str] = set()
    deadline = time.monotonic() + BUDGET_S
    with httpx.Client(base_url=served_api, timeout=10) as client:

        def fuzz(operation: Any, headers: dict[str, str]) -> None:
            content = operation.definition.raw.get("requestBody", {}).get("content", {})
            body_schema = content.get("application/json", {}).get("schema")
            query_strings = _query_strings(spec, operation.definition.raw)

            @given(case=operation.as_strategy(), control=CONTROL)
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def call(case: schemathesis.Case, control: str) -> None:
                if time.monotonic() > deadline:
                    return
                for slot in _slots(case, body_schema, spec, query_strings):
                    for value in (f"a{control}b", "a\x00b\r\n"):
                        try:
                            response = _send(client, case, slot, value, headers)
                        except httpx.TimeoutException:
                            failures.append(f"{case.method} {case.path} {slot} {value!r}: hung")
                            continue
                        if response.status_code >= 500:
                            failures.append(
                                f"{case.method} {case.path} {slot} {value!r}: "
                                f"{response.status_code} {response.text[:200]}"
                            )
                        elif response.json().get("type") == "/problems/validation":
                            refused_at_the_schema.add(f"{case.method} {case.path}")

            call()

        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path == "/webhooks/stripe":
                continue  # takes no typed field: its body is checked against its signature
            fuzz(operation, admin if "admin" in (operation.tags or []) else customer)
    assert failures == [], "\n".join(sorted(set(failures)))
    assert time.monotonic() < deadline + 10, "the fuzz ran past its time budget"
    # The fields people type refuse these characters at the schema, before any work.
    for operation in ("PUT /credentials", "PUT /clients/{client_id}", "GET /admin/runs"):
        assert operation in refused_at_the_schema


async def test_a_token_subject_with_a_nul_is_refused_not_a_500(
    served_api: str, issuer: Issuer
) -> None:
    async with httpx.AsyncClient(base_url=served_api) as client:
        for subject in ("auth0|a\x00b", "auth0|a\r\nb"):
            token = issuer.token(subject)
            response = await client.get("me", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, response.text
            assert response.json()["type"] == "/problems/unauthenticated"
        token = issuer.token(f"auth0|{secrets.token_hex(4)}", email="x\x00@example.test")
        response = await client.get("me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, response.text
