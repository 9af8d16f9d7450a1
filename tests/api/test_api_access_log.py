"""The access log: one line per request, with the caller's trace id on it and on the request's other lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import API, TestClient

from legato.api import create_app
from legato.api.access_log import trace_id_of
from legato.runtime.app import Legato
from legato.runtime.log_setup import ContextFilter
from legato.testing.identity import admin_token

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE}-00f067aa0ba902b7-01"


@pytest.fixture
def legato(tmp_path: Any) -> Iterator[Legato]:
    app = Legato(str(tmp_path / "api.db"))
    yield app
    app.close()


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.INFO)
    context = ContextFilter()
    caplog.handler.addFilter(context)
    yield caplog
    caplog.handler.removeFilter(context)


def _access(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "legato.http"]


def test_each_request_is_one_line_with_its_trace_id(legato: Legato, logged: pytest.LogCaptureFixture) -> None:
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato, access_log=True), headers=headers) as client:
        assert (
            client.get(f"{API}/instances?business_key=secret-key", headers={"traceparent": TRACEPARENT}).status_code
            == 200
        )
        assert client.get(f"{API}/nope").status_code == 404
        assert client.get(f"{API}/instances", headers={"Authorization": "Bearer wrong"}).status_code == 401
    lines = _access(logged)
    assert [(r.method, r.path, r.status) for r in lines] == [
        ("GET", f"{API}/instances", 200),
        ("GET", f"{API}/nope", 404),
        ("GET", f"{API}/instances", 401),
    ]
    assert lines[0].trace_id == TRACE and lines[1].trace_id is None
    assert all(r.duration_ms >= 0 and r.levelname == "INFO" for r in lines)
    assert all("secret-key" not in r.getMessage() for r in lines)  # query strings stay out of the log
    assert lines[0].getMessage().startswith(f"GET {API}/instances 200 ")


def test_off_unless_asked(legato: Legato, logged: pytest.LogCaptureFixture) -> None:
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato), headers=headers) as client:
        assert client.get(f"{API}/instances").status_code == 200
    assert _access(logged) == []


def test_the_trace_id_reaches_the_other_lines_of_the_request(
    legato: Legato, logged: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> dict[str, int]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(legato.store.queries, "count_instances", broken)
    headers = {"Authorization": f"Bearer {admin_token(legato)}", "traceparent": TRACEPARENT}
    with TestClient(create_app(legato, access_log=True), headers=headers, raise_server_exceptions=False) as client:
        assert client.get(f"{API}/stats").status_code == 500
    [error] = [r for r in logged.records if r.name == "legato.api" and "unexpected" in r.getMessage()]
    assert error.trace_id == TRACE
    [line] = _access(logged)
    assert line.status == 500 and line.trace_id == TRACE


def test_traceparent_parsing() -> None:
    assert trace_id_of(TRACEPARENT) == TRACE
    assert trace_id_of(TRACEPARENT.upper()) == TRACE
    assert trace_id_of(None) is None
    assert trace_id_of("garbage") is None
    assert trace_id_of(f"00-{'0' * 32}-00f067aa0ba902b7-01") is None  # the all-zero id is invalid
