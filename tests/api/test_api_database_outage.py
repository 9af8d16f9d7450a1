"""While the database is away, the API answers 503 DATABASE_UNAVAILABLE with Retry-After, in time.

The app talks to a real PostgreSQL through a fault-injecting TCP proxy (tests/fault_proxy.py)
that the test cuts (every connection reset, new ones refused) or stalls (connections kept
open, nothing forwarded: the case no socket error ever reports). Each failure is logged
once per interval, not once per request, and the service recovers by itself when the link
does. An unexpected error answers 500 with `Connection: close`, logged once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import API, ORDER_YAML, TestClient, assert_problem

from fault_proxy import FaultProxy
from legato.api import create_app
from legato.runtime.app import Legato
from legato.store import Store
from legato.testing.identity import admin_token
from support import Switch, eventually, install_handlers

TIMEOUT = 2.0  # the store's connect and statement timeouts in these tests


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    with FaultProxy(("127.0.0.1", 5432)) as fault_proxy:
        yield fault_proxy


@pytest.fixture
def client(postgres_url: str, proxy: FaultProxy) -> Iterator[TestClient]:
    store = Store(proxy.url(postgres_url), connect_timeout=TIMEOUT, statement_timeout=TIMEOUT)
    legato = Legato(store)
    install_handlers(legato, Switch())
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato), headers=headers, raise_server_exceptions=False) as test_client:
        assert test_client.post(f"{API}/definitions", files={"file": ("order.yaml", ORDER_YAML)}).status_code == 201
        yield test_client
    proxy.heal()
    legato.close()


def _assert_unavailable(response: Any) -> None:
    problem = assert_problem(response, 503, "DATABASE_UNAVAILABLE")
    assert int(response.headers["retry-after"]) >= 1
    assert problem["retry_after"] == int(response.headers["retry-after"])


def _outage_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "legato.api" and "answered 503" in r.getMessage()]


def test_a_cut_database_answers_503_logged_once_and_recovers(
    client: TestClient, proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    started = client.post(f"{API}/definitions/order/instances", json={"variables": {"order_id": "o-1"}})
    assert started.status_code == 201
    caplog.set_level(logging.INFO)
    proxy.cut()
    began = time.monotonic()
    for _ in range(25):
        _assert_unavailable(client.get(f"{API}/instances"))
    _assert_unavailable(client.post(f"{API}/definitions/order/instances", json={"variables": {"order_id": "o-2"}}))
    _assert_unavailable(client.get(f"{API}/instances/{started.json()['instance_id']}"))
    assert time.monotonic() - began < 15  # a refused connection fails fast: no request waits out a timeout
    health = client.get(f"{API}/health")
    assert health.status_code == 503 and health.json()["database"] == "unreachable"
    assert len(_outage_lines(caplog)) == 1, [r.getMessage() for r in _outage_lines(caplog)]
    assert not [r for r in caplog.records if r.exc_info and r.name.startswith("legato")]  # no tracebacks

    proxy.heal()
    eventually(lambda: client.get(f"{API}/instances").status_code == 200, timeout=10)
    items = client.get(f"{API}/instances").json()["items"]
    assert [i["business_key"] for i in items] == [None]  # the refused start left nothing behind
    assert len(items) == 1


def test_a_stalled_database_is_answered_within_the_timeouts(client: TestClient, proxy: FaultProxy) -> None:
    """The link keeps its connections but forwards nothing: only the client-side deadline ends the wait."""
    assert client.get(f"{API}/instances").status_code == 200
    proxy.stall()
    try:
        for _ in range(2):
            began = time.monotonic()
            _assert_unavailable(client.get(f"{API}/instances"))
            # watchdog (statement timeout + grace) plus one connect timeout, with room for a slow machine
            assert time.monotonic() - began < 2 * TIMEOUT + 2 + TIMEOUT + 3
    finally:
        proxy.heal()
    eventually(lambda: client.get(f"{API}/instances").status_code == 200, timeout=15)


@pytest.mark.slow
def test_a_database_stalled_for_30_seconds(client: TestClient, proxy: FaultProxy) -> None:
    """Thirty seconds without an answer: every request still gets its 503 in time, and service resumes."""
    proxy.stall()
    began = time.monotonic()
    answered = []
    while time.monotonic() - began < 30:
        sent = time.monotonic()
        _assert_unavailable(client.get(f"{API}/instances"))
        answered.append(time.monotonic() - sent)
    proxy.heal()
    assert max(answered) < 2 * TIMEOUT + 2 + TIMEOUT + 3, answered
    eventually(lambda: client.get(f"{API}/instances").status_code == 200, timeout=15)


def test_an_unexpected_error_closes_the_connection_and_is_logged_once(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    legato = Legato(str(tmp_path / "api.db"))
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}

    def broken(**_filters: object) -> dict[str, int]:
        raise RuntimeError("a bug in the stats query")

    monkeypatch.setattr(legato.store.queries, "count_instances", broken)
    caplog.set_level(logging.INFO)
    with TestClient(create_app(legato), headers=headers, raise_server_exceptions=False) as client:
        for _ in range(10):
            response = client.get(f"{API}/stats")
            problem = assert_problem(response, 500, "INTERNAL_ERROR")
            assert response.headers["connection"] == "close"
            assert "bug" not in problem["detail"]  # the details stay in the log
        assert client.get(f"{API}/instances").status_code == 200  # other routes are unaffected
    logged = [r for r in caplog.records if r.name == "legato.api" and "unexpected error" in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info is not None and "a bug in the stats query" in str(logged[0].exc_info[1])
    legato.close()


def test_a_500_of_legato_s_own_closes_the_connection_too(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from legato.errors import AuditKeyInvalid

    legato = Legato(str(tmp_path / "api.db"))
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}

    def broken(*_: Any, **__: Any) -> dict[str, int]:
        raise AuditKeyInvalid("the audit key file is unreadable")

    monkeypatch.setattr(legato.store.queries, "count_instances", broken)
    with TestClient(create_app(legato), headers=headers, raise_server_exceptions=False) as client:
        response = client.get(f"{API}/stats")
    assert_problem(response, 500, "AUDIT_KEY_INVALID")
    assert response.headers["connection"] == "close"
    legato.close()


def test_over_a_real_socket_the_server_closes_after_a_500(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn honours the header: the 500 arrives whole, then the connection ends, not reset mid-way."""
    import socket
    import threading

    import uvicorn

    legato = Legato(str(tmp_path / "api.db"))
    token = admin_token(legato)

    def broken() -> dict[str, int]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(legato.store.queries, "count_instances", broken)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(legato), host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        eventually(lambda: server.started, timeout=20)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            request = (
                f"GET {API}/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                "Connection: keep-alive\r\n\r\n"
            )
            conn.sendall(request.encode())
            received = b""
            while chunk := conn.recv(65536):  # ends when the server closes its side
                received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 500")
        assert b"connection: close" in head.lower()
        assert b'"code":"INTERNAL_ERROR"' in body
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        legato.close()
