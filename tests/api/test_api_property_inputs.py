"""Property: whatever a caller puts in a route's inputs, the answer is never a 5xx.

Every operation of the OpenAPI document is called with its path and query parameters and
its JSON body fields filled from a strategy that favours what broke the server before:
integers around 2^63 and 2^64, lone surrogates, NUL and other control characters, deep
nesting, NaN. Each answer must be below 500, and an error must be a problem document. The
runs are derandomized (the same examples every run) and bounded, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from api_helpers import API, ORDER_YAML, TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from legato.api import create_app
from legato.runtime.app import Legato
from legato.testing.identity import admin_token
from support import Switch, install_handlers

EDGE_INTEGERS = [2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30, 0, -1]
SPECIAL_TEXT = ["\ud800", "\udfff", "a\x00b", "\x00", "order", "admin", "", " ", "../x", "%00", "\u202e", "\U0001f600"]

any_text = st.one_of(
    st.sampled_from(SPECIAL_TEXT),
    st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=12),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(EDGE_INTEGERS),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    any_text,
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3),
    max_leaves=8,
)
parameters = st.one_of(any_text, st.sampled_from(EDGE_INTEGERS).map(str), st.integers().map(str))


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    document = client.get("/openapi.json").json()
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete") and path.startswith(API):
                found.append((method.upper(), path, operation))
    return found


def _body_fields(document: dict[str, Any], operation: dict[str, Any]) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    for option in schema.get("anyOf", ()):  # optional bodies: `Model | None`
        if "$ref" in option:
            schema = document["components"]["schemas"][option["$ref"].rsplit("/", 1)[-1]]
    return sorted(schema.get("properties", {}))


def _url_part(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@pytest.fixture
def client(database_url: str) -> Any:
    legato = Legato(database_url)
    install_handlers(legato, Switch())
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato), headers=headers, raise_server_exceptions=False) as test_client:
        assert test_client.post(f"{API}/definitions", files={"file": ("order.yaml", ORDER_YAML)}).status_code == 201
        yield test_client
    legato.close()


def test_no_route_answers_5xx_to_any_input(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operations = [(m, p, o, _body_fields(document, o)) for m, p, o in _operations(client)]
    assert len(operations) > 20  # the whole API, not a corner of it
    seen: set[tuple[str, str]] = set()

    @settings(
        max_examples=400,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def call(data: st.DataObject) -> None:
        method, path, operation, fields = data.draw(st.sampled_from(operations), label="operation")
        url = re.sub(r"\{(\w+)\}", lambda _m: _url_part(data.draw(parameters, label="path")), path)
        query = {
            p["name"]: data.draw(parameters, label=p["name"])
            for p in operation.get("parameters", ())
            if p["in"] == "query" and data.draw(st.booleans(), label=f"send {p['name']}")
        }
        if query:
            url += "?" + "&".join(f"{_url_part(k)}={_url_part(v)}" for k, v in query.items())
        body = None
        if fields:
            chosen = data.draw(st.lists(st.sampled_from(fields), unique=True), label="fields")
            body = json.dumps({name: data.draw(json_values, label=name) for name in chosen})
        response = client.request(method, url, content=body, headers={"content-type": "application/json"})
        seen.add((method, path))
        assert response.status_code < 500, (method, url, body, response.status_code, response.text[:500])
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json"), response.text
            problem = response.json()
            assert problem["status"] == response.status_code and problem["code"], problem

    call()
    assert len(seen) > len(operations) // 2  # the examples reached most operations
