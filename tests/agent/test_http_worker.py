"""`legato.agent.HttpWorker` as a library, against a real uvicorn server in a thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from agent_helpers import eventually, free_port

from external_models import INVOICE_BPMN
from legato import BpmnError, Handlers
from legato.access.authenticator import Authenticator
from legato.agent import AgentSettings, HttpWorker
from legato.api import create_app
from legato.runtime.app import Legato
from legato.testing.identity import admin_token


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Legato, str, str]]:
    """A Legato with the invoice model, served over HTTP on loopback; with a worker token."""
    legato = Legato(str(tmp_path / "agent.db"))
    legato.deploy(INVOICE_BPMN, source_format="bpmn")
    admin_token(legato)
    authenticator = Authenticator(legato.store, clock=legato.clock)
    admin = authenticator.principal_of(authenticator.directory.user("admin"))
    token = authenticator.issue_token(
        name="agent", kind="worker", creator=admin, task_types=["invoice.check", "invoice.pay"]
    ).token
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(legato), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually(lambda: server.started, 30, "the server start")
    try:
        yield legato, f"http://127.0.0.1:{port}", token
    finally:
        server.should_exit = True
        thread.join(10)
        legato.close()


def running(worker: HttpWorker) -> threading.Thread:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return thread


def settings(**changes: Any) -> AgentSettings:
    return AgentSettings(**{"long_poll": 1.0, "lock_seconds": 5.0, **changes})


def test_results_bpmn_errors_and_failures_take_the_paths_in_process_handlers_take(
    served: tuple[Legato, str, str],
) -> None:
    legato, url, token = served
    handlers = Handlers()

    @handlers("invoice.check")
    def check(job: Any) -> dict[str, Any]:
        if job.variables["case"] == "invalid":
            raise BpmnError("INVOICE_INVALID", "no VAT id", variables={"why": "vat"})
        if job.variables["case"] == "broken":
            raise ConnectionError("ledger down")
        return {"checked": job.idempotency_key}

    @handlers("invoice.pay")
    async def pay(job: Any) -> dict[str, Any]:
        await asyncio.sleep(0.01)
        return {"paid": True}

    worker = HttpWorker(url, token, handlers, worker_id="lib", settings=settings())
    thread = running(worker)
    try:
        ok = legato.start("invoice", {"case": "ok"}).instance_id
        invalid = legato.start("invoice", {"case": "invalid"}).instance_id
        broken = legato.start("invoice", {"case": "broken"}).instance_id
        done = legato.wait(ok, timeout=20)
        assert done["variables"]["paid"] is True and done["variables"]["checked"] == f"{ok}:2"
        eventually(lambda: legato.instance(invalid)["waiting_at"] == ["clarify_invoice"], 20, "the error path")
        assert legato.instance(invalid)["variables"]["why"] == "vat"
        [incident] = eventually(lambda: legato.incidents(instance_id=broken), 20, "the incident")
        assert incident["error_type"] == "ConnectionError" and "ledger down" in incident["message"]
        assert "Traceback" in (incident.get("details") or legato.store.queries.incident(incident["id"])["details"])
    finally:
        worker.stop()
        thread.join(20)
    assert not thread.is_alive()
    assert worker.stats.completed == 2 and worker.stats.bpmn_errors == 1 and worker.stats.failed == 2


def test_a_handler_longer_than_its_lock_keeps_the_task_by_extending_the_lock(
    served: tuple[Legato, str, str],
) -> None:
    legato, url, token = served
    handlers = Handlers()
    handlers.register("invoice.check", lambda job: time.sleep(1.5) or {"slow": True})
    handlers.register("invoice.pay", lambda job: {})
    worker = HttpWorker(url, token, handlers, worker_id="lib", settings=settings(lock_seconds=0.6))
    thread = running(worker)
    try:
        instance_id = legato.start("invoice", {}).instance_id
        assert legato.wait(instance_id, timeout=20)["variables"]["slow"] is True
    finally:
        worker.stop()
        thread.join(20)
    assert worker.stats.extended >= 1 and worker.stats.refused == 0


def test_a_handler_past_its_timeout_is_reported_failed_and_its_late_result_dropped(
    served: tuple[Legato, str, str],
) -> None:
    legato, url, token = served
    handlers = Handlers()
    handlers.register("invoice.check", lambda job: time.sleep(1.0) or {"late": True}, timeout=0.3)
    handlers.register("invoice.pay", lambda job: {})
    worker = HttpWorker(url, token, handlers, worker_id="lib", settings=settings())
    thread = running(worker)
    try:
        instance_id = legato.start("invoice", {}).instance_id
        [incident] = eventually(lambda: legato.incidents(instance_id=instance_id), 20, "the incident")
        assert incident["error_type"] == "TimeoutError"
        time.sleep(1.5)  # the late results arrive, and are dropped
        assert "late" not in legato.instance(instance_id)["variables"]
    finally:
        worker.stop()
        thread.join(20)


def test_stop_lets_a_running_handler_finish_and_report(served: tuple[Legato, str, str]) -> None:
    legato, url, token = served
    started = threading.Event()
    handlers = Handlers()

    def check(job: Any) -> dict[str, Any]:
        started.set()
        time.sleep(0.5)
        return {"finished": True}

    handlers.register("invoice.check", check)
    worker = HttpWorker(url, token, handlers, worker_id="lib", settings=settings())
    thread = running(worker)
    instance_id = legato.start("invoice", {}).instance_id
    assert started.wait(20)
    worker.stop()
    thread.join(20)
    assert not thread.is_alive()
    assert legato.instance(instance_id)["variables"]["finished"] is True
    assert legato.instance(instance_id)["waiting_at"] == ["pay_invoice"]


def test_an_agent_needs_handlers() -> None:
    with pytest.raises(ValueError, match="at least one handler"):
        HttpWorker("http://127.0.0.1:1", "token", Handlers())
