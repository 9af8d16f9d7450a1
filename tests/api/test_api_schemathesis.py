"""Schemathesis over the OpenAPI document: no 5xx, and every answer as the document says.

Each operation is called in-process (ASGI) as an admin with examples generated from its
schema, valid and invalid, and checked: not a server error, a documented status code, a
documented content type and headers, a body that matches the documented schema. The
examples are derandomized and bounded (`LEGATO_SCHEMATHESIS_EXAMPLES`, default 15 per
operation), so the default run takes well under a minute.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from api_helpers import API, ORDER_YAML, TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from legato.api import create_app
from legato.runtime.app import Legato
from legato.testing.identity import admin_token
from support import Switch, install_handlers

EXAMPLES = int(os.environ.get("LEGATO_SCHEMATHESIS_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str]]]:
    legato = Legato(str(tmp_path_factory.mktemp("schemathesis") / "api.db"))
    install_handlers(legato, Switch())
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    app = create_app(legato)
    with TestClient(app, headers=headers) as client:  # something to read, so GETs find things
        assert client.post(f"{API}/definitions", files={"file": ("order.yaml", ORDER_YAML)}).status_code == 201
        started = client.post(f"{API}/definitions/order/instances", json={"variables": {"order_id": "o-1"}})
        assert started.status_code == 201
    yield app, headers
    legato.close()


def test_api_answers_as_documented(served: tuple[Any, dict[str, str]]) -> None:
    app, headers = served
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    statuses: dict[int, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE))
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],  # a failure is reported as found: shrinking took minutes
        )
        def check(case: Any) -> None:
            if isinstance(case.body, dict) and "async_response_timeout" in case.body:
                case.body["async_response_timeout"] = 0  # a long poll would wait out the client's timeout
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {exc}")
    assert operations > 20
    print("schemathesis answers by status:", dict(sorted(statuses.items())))
    assert sum(statuses.values()) >= operations * min(EXAMPLES, 5)  # the examples were sent, not skipped
    assert not failures, "\n\n".join(failures)
