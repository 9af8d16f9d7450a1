"""A sensitive value quoted by an error the engine itself raises (a script that fails on it):
masked in the incident and the history for a caller without read-sensitive, shown to one
with it, and absent from every log line in both log formats, access log included."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import API, TestClient

from legato.api import create_app
from legato.runtime.app import Legato
from legato.runtime.log_setup import JsonFormatter, TextFormatter
from legato.testing.identity import admin_token
from sensitive_support import IBAN, bearer, token_with
from support import eventually

CHECK_YAML = """\
process: check
sensitive: [iban]
steps:
  - start: received
  - script: parse
    code: |
      number = int(iban)
  - end: done
"""
"""The script fails with Python's own message, which quotes the value: `invalid literal ... 'DE89...'`."""


@pytest.fixture
def legato(tmp_path: Path) -> Iterator[Legato]:
    app = Legato(str(tmp_path / "errors.db"))
    yield app
    app.close()


@pytest.fixture
def client(legato: Legato) -> Iterator[TestClient]:
    app = create_app(legato, worker=True, access_log=True)
    with TestClient(app, headers=bearer(admin_token(legato))) as test_client:
        deployed = test_client.post(f"{API}/definitions", files={"file": ("check.yaml", CHECK_YAML)})
        assert deployed.status_code == 201, deployed.text
        yield test_client


def failed_instance(client: TestClient) -> str:
    started = client.post(f"{API}/definitions/check/instances", json={"variables": {"iban": IBAN}})
    assert started.status_code == 201, started.text
    instance_id = str(started.json()["instance_id"])
    eventually(lambda: client.get(f"{API}/incidents", params={"instance_id": instance_id}).json()["items"])
    return instance_id


def test_an_expression_failure_quoting_a_sensitive_value_is_masked(legato: Legato, client: TestClient) -> None:
    instance_id = failed_instance(client)
    viewer = bearer(token_with(legato, "vera", role="viewer"))

    incident = client.get(f"{API}/incidents", params={"instance_id": instance_id}, headers=viewer).json()["items"][0]
    assert incident["error_type"] == "ExpressionError"
    assert "invalid literal" in incident["message"] and "'***'" in incident["message"], incident
    assert IBAN not in json.dumps(incident) and incident["masked"] == ["/message"]

    one = client.get(f"{API}/incidents/{incident['id']}", headers=viewer).json()
    assert IBAN not in json.dumps(one) and "/message" in one["masked"]
    instance = client.get(f"{API}/instances/{instance_id}", headers=viewer).json()
    assert IBAN not in json.dumps(instance), instance
    history = client.get(f"{API}/instances/{instance_id}/history", headers=viewer).json()["items"]
    assert [e for e in history if e["type"] == "incident_created"], history
    assert IBAN not in json.dumps(history), history

    operator = bearer(token_with(legato, "otto", role="operator"))
    shown = client.get(f"{API}/incidents/{incident['id']}", headers=operator).json()
    assert IBAN in shown["message"] and shown["masked"] == []


def test_no_log_line_of_either_format_quotes_it(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    instance_id = failed_instance(client)
    client.get(f"{API}/instances/{instance_id}")
    client.get(f"{API}/instances", params={"process": "check", "business_key": IBAN})  # the query is not logged
    assert any(r.name == "legato.http" for r in caplog.records), "the access log is on"
    formatters: list[logging.Formatter] = [JsonFormatter(), TextFormatter()]
    for record in caplog.records:
        if record.name.startswith("httpx"):  # the test's own HTTP client, not the server
            continue
        for formatter in formatters:
            line = formatter.format(record)
            assert IBAN not in line, (record.name, line)
