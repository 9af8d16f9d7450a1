"""Camunda 7's own external-task clients, unchanged, against a real `legato server`.

The Python client (`camunda-external-task-client-python3`, from PyPI) and the Node client
(`camunda-external-task-client-js`, from npm through tests/js) run their whole cycle over
`<server>/engine-rest`: fetch and lock with long polling, complete with typed variables,
failure with retries counted down to an incident, BPMN error to the boundary, extend lock
and unlock (Node; the Python client has neither). Skipped without Node or the npm package,
except in CI (LEGATO_REQUIRE_SERVICES).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from agent_helpers import Site, eventually
from camunda.external_task.external_task import ExternalTask, TaskResult
from camunda.external_task.external_task_worker import ExternalTaskWorker

from support import skip_or_fail

WORKER_JS = Path(__file__).resolve().parents[1] / "js" / "camunda_worker.mjs"


def _python_worker(site: Site) -> ExternalTaskWorker:
    config = {
        "auth_bearer": {"access_token": site.worker_token},
        "maxTasks": 1,
        "lockDuration": 20_000,
        "asyncResponseTimeout": 2_000,
        "retries": 2,
        "retryTimeout": 0,
        "sleepSeconds": 0,
    }
    return ExternalTaskWorker(worker_id="py-worker", base_url=f"{site.url}/engine-rest", config=config)


def _handle(task: ExternalTask) -> TaskResult:
    amount = task.get_variable("amount")
    if amount < 0:
        return task.bpmn_error("INVOICE_INVALID", "a negative amount", {"reason": "negative"})
    if amount == 13:
        return task.failure("the bank is down", "a stack trace", max_retries=2, retry_timeout=0)
    return task.complete({"approved": True, "checked": {"by": task.get_worker_id()}})


def _run_once(worker: ExternalTaskWorker) -> None:
    worker.fetch_and_execute("invoice.check", _handle)


def test_the_python_client_completes_fails_and_throws(site: Site) -> None:
    worker = _python_worker(site)
    good = site.start(amount=120, invoice_id="I-1")
    _run_once(worker)
    detail = site.api("GET", f"/instances/{good}")
    assert detail["variables"]["approved"] is True
    assert detail["variables"]["checked"] == {"by": "py-worker"}  # a dict went as Json and came back as one

    negative = site.start(amount=-5)
    _run_once(worker)
    tasks = site.api("GET", "/tasks", params={"instance_id": negative})
    assert [t["element"] for t in tasks["items"]] == ["clarify_invoice"]  # the error boundary's path

    unlucky = site.start(amount=13)
    _run_once(worker)  # retries: none yet -> the client sends its max_retries (2)
    _run_once(worker)  # the fetch said 2 -> it sends 1
    _run_once(worker)  # the fetch said 1 -> it sends 0: an incident
    incidents = site.api("GET", "/incidents", params={"instance_id": unlucky})
    assert [i["message"] for i in incidents["items"]] == ["the bank is down"]
    history = [e["type"] for e in site.history(unlucky)]
    assert history.count("job_failed") == 2 and "incident_created" in history


@pytest.fixture
def node() -> str:
    found = shutil.which("node")
    if found is None:
        skip_or_fail("node is not installed")
    if not (WORKER_JS.parent / "node_modules" / "camunda-external-task-client-js").is_dir():
        skip_or_fail("camunda-external-task-client-js is not installed: run `npm ci --prefix tests/js`")
    assert found is not None
    return found


def _js(node: str, site: Site, count: int) -> list[dict[str, Any]]:
    result = subprocess.run(
        [node, str(WORKER_JS), f"{site.url}/engine-rest", site.worker_token, "invoice.check", str(count)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_the_node_client_runs_its_whole_cycle(node: str, site: Site) -> None:
    ids = {amount: site.start(amount=amount) for amount in (1, 2, 3, 4)}
    seen = _js(node, site, count=4)
    assert sorted(s["did"] for s in seen) == ["bpmnError", "complete", "complete", "failure", "unlock"]
    assert site.api("GET", f"/instances/{ids[1]}")["variables"]["meta"] == {"by": "js"}  # typed Json, parsed
    eventually(lambda: site.api("GET", "/tasks", params={"instance_id": ids[2]})["items"], what="the boundary path")
    [incident] = site.api("GET", "/incidents", params={"instance_id": ids[3]})["items"]
    assert incident["message"] == "js failure"
    assert [s["amount"] for s in seen if s["did"] == "unlock"] == [4]
    assert sum(1 for s in seen if s["amount"] == 4) == 2  # unlocked, fetched again, completed
