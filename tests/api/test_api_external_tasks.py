"""The external-task API: fetch-and-lock with long polling, and every report, over HTTP."""

from __future__ import annotations

import threading
import time
from typing import Any

from api_helpers import API, TestClient, assert_problem
from external_helpers import deploy_invoice, fetch, fetched, report, start_invoice

from legato.access.authenticator import Authenticator
from legato.runtime.app import Legato


def worker_token(legato: Legato, *task_types: str, tenants: list[str] | None = None) -> dict[str, str]:
    authenticator = Authenticator(legato.store, clock=legato.clock)
    admin = authenticator.principal_of(authenticator.directory.user("admin"))
    token = authenticator.issue_token(
        name=f"worker-{'-'.join(task_types)}-{tenants}",
        kind="worker",
        creator=admin,
        task_types=task_types,
        tenants=tenants,
    ).token
    return {"Authorization": f"Bearer {token}"}


def instance(client: TestClient, instance_id: str) -> dict[str, Any]:
    return dict(client.get(f"{API}/instances/{instance_id}").json())


# -- the round trip --------------------------------------------------------------------------


def test_a_fetched_task_carries_its_inputs_and_idempotency_key_and_completes_exactly_once(client: TestClient) -> None:
    deploy_invoice(client)
    instance_id = start_invoice(client, amount=120, invoice_id="I-1")
    [task] = fetched(client, "invoice.check")
    assert task["instance_id"] == instance_id and task["task_type"] == "invoice.check"
    assert task["element"] == "check_invoice" and task["process"] == "invoice" and task["attempt"] == 1
    assert task["variables"] == {"amount": 120, "invoice_id": "I-1"}
    assert task["idempotency_key"] == task["id"] and task["worker_id"] == "w1"
    assert fetched(client, "invoice.check") == []  # locked: nobody else gets it

    completed = report(client, task["id"], "complete", variables={"approved": True})
    assert completed.status_code == 204 and completed.content == b""
    assert "content-type" not in completed.headers  # no body, no type: clients parse by the type
    second = report(client, task["id"], "complete", variables={"approved": False})
    assert_problem(second, 404, "EXTERNAL_TASK_NOT_FOUND")
    assert instance(client, instance_id)["variables"]["approved"] is True
    [pay] = fetched(client, "invoice.pay", worker="w2")
    assert pay["variables"]["approved"] is True and pay["attempt"] == 1
    assert report(client, pay["id"], "complete", worker_id="w2").status_code == 204
    done = instance(client, instance_id)
    assert done["status"] == "completed"
    history = client.get(f"{API}/instances/{instance_id}/history").json()
    actors = {event["actor"] for event in (history["items"] if isinstance(history, dict) else history)}
    assert "worker:external:w1" in actors and "worker:external:w2" in actors


def test_one_fetch_takes_at_most_max_tasks_over_several_topics_each_with_its_lock(client: TestClient) -> None:
    deploy_invoice(client)
    for n in range(3):
        start_invoice(client, n=n)
    body = {
        "worker_id": "w1",
        "max_tasks": 2,
        "topics": [
            {"task_type": "invoice.pay", "lock_duration": 5},
            {"task_type": "invoice.check", "lock_duration": 60},
        ],
    }
    response = client.post(f"{API}/external-tasks/fetch-and-lock", json=body)
    assert response.status_code == 200, response.text
    tasks = response.json()
    assert len(tasks) == 2 and {t["task_type"] for t in tasks} == {"invoice.check"}
    assert len(fetched(client, "invoice.check", max_tasks=10)) == 1


# -- bad reports -----------------------------------------------------------------------------


def test_reports_name_what_is_wrong_and_change_nothing(client: TestClient) -> None:
    deploy_invoice(client)
    instance_id = start_invoice(client, amount=1)
    [task] = fetched(client, "invoice.check")
    assert_problem(report(client, task["id"], "complete", worker_id="w2"), 409, "EXTERNAL_TASK_NOT_LOCKED")
    assert_problem(report(client, "no-such:1", "complete"), 404, "EXTERNAL_TASK_NOT_FOUND")
    problem = assert_problem(report(client, task["id"], "complete", variables=[1, 2]), 400, "VARIABLES_INVALID")
    assert "variables" in str(problem)
    lone_surrogate = client.post(
        f"{API}/external-tasks/{task['id']}/complete",
        content=b'{"worker_id": "w1", "variables": {"x": "\\ud800"}}',
        headers={"Content-Type": "application/json"},
    )
    problem = assert_problem(lone_surrogate, 400, "VARIABLES_INVALID")
    assert "/x" in str(problem)
    assert_problem(report(client, task["id"], "complete", worker_id=""), 400, "INVALID_INPUT")
    assert_problem(report(client, task["id"], "failure"), 400, "INVALID_INPUT")  # no error_message
    assert_problem(report(client, task["id"], "bpmn-error"), 400, "INVALID_INPUT")  # no error_code
    assert_problem(report(client, task["id"], "extend-lock", new_duration=0), 400, "INVALID_INPUT")
    assert_problem(report(client, task["id"], "complete", unknown=1), 400, "INVALID_INPUT")
    assert instance(client, instance_id)["waiting_at"] == ["check_invoice"]
    assert report(client, task["id"], "complete").status_code == 204  # the lock held all along


def test_fetch_refuses_bad_requests_naming_the_field(client: TestClient) -> None:
    url = f"{API}/external-tasks/fetch-and-lock"
    good = {"worker_id": "w1", "topics": [{"task_type": "invoice.check", "lock_duration": 10}]}
    for change in (
        {"max_tasks": 0},
        {"max_tasks": 100_000},
        {"topics": []},
        {"topics": [{"task_type": "invoice.check", "lock_duration": 0}]},
        {"topics": [{"task_type": "a", "lock_duration": 1}, {"task_type": "a", "lock_duration": 2}]},
        {"async_response_timeout": -1},
        {"async_response_timeout": 100_000},
        {"worker_id": "bad\nid"},
    ):
        problem = assert_problem(client.post(url, json={**good, **change}), 400, "INVALID_INPUT")
        assert problem["detail"], change


def test_a_report_after_the_lock_expired_is_refused_and_the_task_goes_to_the_next_worker(client: TestClient) -> None:
    deploy_invoice(client)
    instance_id = start_invoice(client)
    [task] = fetched(client, "invoice.check", lock=0.2)
    time.sleep(0.3)
    assert_problem(report(client, task["id"], "complete"), 409, "EXTERNAL_TASK_LOCK_EXPIRED")
    assert_problem(report(client, task["id"], "extend-lock", new_duration=10), 409, "EXTERNAL_TASK_LOCK_EXPIRED")
    [again] = fetched(client, "invoice.check", worker="w2")
    assert again["id"] == task["id"] and again["attempt"] == 2
    assert_problem(report(client, task["id"], "complete"), 409, "EXTERNAL_TASK_NOT_LOCKED")  # w1, too late
    assert report(client, again["id"], "complete", worker_id="w2").status_code == 204
    assert instance(client, instance_id)["waiting_at"] == ["pay_invoice"]


def test_extend_lock_keeps_the_task_and_unlock_gives_it_back_uncounted(client: TestClient) -> None:
    deploy_invoice(client)
    start_invoice(client)
    [task] = fetched(client, "invoice.check", lock=0.5)
    extended = report(client, task["id"], "extend-lock", new_duration=60)
    assert extended.status_code == 200, extended.text
    assert extended.json()["lock_expires_at"] > task["lock_expires_at"]
    time.sleep(0.6)
    assert fetched(client, "invoice.check", worker="w2") == []  # the extended lock holds
    assert report(client, task["id"], "unlock").status_code == 204
    assert_problem(report(client, task["id"], "unlock"), 409, "EXTERNAL_TASK_NOT_LOCKED")
    [again] = fetched(client, "invoice.check", worker="w2")
    assert again["id"] == task["id"] and again["attempt"] == 1


# -- failures and BPMN errors -----------------------------------------------------------------


def test_a_failure_retries_by_the_task_policy_then_opens_an_incident(client: TestClient) -> None:
    deploy_invoice(client)  # check_invoice: R2/PT0S, two attempts
    instance_id = start_invoice(client)
    [task] = fetched(client, "invoice.check")
    failed = report(client, task["id"], "failure", error_message="ledger down", error_details="Traceback ...")
    assert failed.status_code == 204, failed.text
    [second] = fetched(client, "invoice.check", wait=5)
    assert second["attempt"] == 2
    assert report(client, second["id"], "failure", error_message="ledger still down").status_code == 204
    [incident] = client.get(f"{API}/incidents", params={"instance_id": instance_id}).json()["items"]
    assert incident["element"] == "check_invoice" and "ledger still down" in incident["message"]
    assert fetched(client, "invoice.check") == []  # held by the incident
    assert_problem(report(client, second["id"], "complete"), 409, "EXTERNAL_TASK_NOT_LOCKED")


def test_a_worker_may_decide_the_retries_and_their_timeout_itself(client: TestClient) -> None:
    deploy_invoice(client)
    instance_id = start_invoice(client)
    [task] = fetched(client, "invoice.check")
    assert report(client, task["id"], "failure", error_message="busy", retries=5, retry_timeout=60).status_code == 204
    assert fetched(client, "invoice.check") == []  # not before a minute
    job = client.get(f"{API}/instances/{instance_id}").json()
    assert job["status"] == "active" and not client.get(f"{API}/incidents").json()["items"]
    start_invoice(client)
    [other] = fetched(client, "invoice.check")
    assert report(client, other["id"], "failure", error_message="broken", retries=0).status_code == 204
    assert len(client.get(f"{API}/incidents").json()["items"]) == 1


def test_a_bpmn_error_takes_the_boundary_path_and_sets_its_variables(client: TestClient) -> None:
    deploy_invoice(client)
    instance_id = start_invoice(client)
    [task] = fetched(client, "invoice.check")
    body = {"error_code": "INVOICE_INVALID", "error_message": "no VAT id", "variables": {"why": "vat"}}
    thrown = report(client, task["id"], "bpmn-error", **body)
    assert thrown.status_code == 204, thrown.text
    now = instance(client, instance_id)
    assert now["waiting_at"] == ["clarify_invoice"] and now["variables"]["why"] == "vat"
    start_invoice(client)
    [other] = fetched(client, "invoice.check")
    assert report(client, other["id"], "bpmn-error", error_code="UNKNOWN_CODE").status_code == 204
    [incident] = client.get(f"{API}/incidents").json()["items"]
    assert incident["error_type"] == "UnhandledBpmnError"


# -- who may -----------------------------------------------------------------------------------


def test_a_worker_token_works_only_on_its_task_types(client: TestClient, legato: Legato) -> None:
    deploy_invoice(client)
    start_invoice(client)
    checker = worker_token(legato, "invoice.check")
    problem = assert_problem(fetch(client, "invoice.pay", headers=checker), 403, "TASK_TYPE_DENIED")
    assert problem["task_type"] == "invoice.pay"
    assert_problem(fetch(client, "invoice.check", "invoice.pay", headers=checker), 403, "TASK_TYPE_DENIED")
    [task] = fetched(client, "invoice.check", headers=checker)
    payer = worker_token(legato, "invoice.pay")
    refused = client.post(f"{API}/external-tasks/{task['id']}/complete", json={"worker_id": "w1"}, headers=payer)
    assert_problem(refused, 403, "TASK_TYPE_DENIED")
    assert_problem(client.get(f"{API}/instances", headers=checker), 403, "PERMISSION_DENIED")
    done = client.post(f"{API}/external-tasks/{task['id']}/complete", json={"worker_id": "w1"}, headers=checker)
    assert done.status_code == 204


def test_a_worker_token_sees_only_its_tenants_tasks(client: TestClient, legato: Legato) -> None:
    for tenant in ("a", "b"):
        assert client.post(f"{API}/tenants", json={"tenant": tenant}).status_code == 201
    deploy_invoice(client)  # shared: both tenants start it
    start_invoice(client, tenant="b")
    worker_a = worker_token(legato, "invoice.check", tenants=["a"])
    assert fetched(client, "invoice.check", headers=worker_a) == []
    [task_b] = fetched(client, "invoice.check", worker="wb")  # the admin sees every tenant
    assert task_b["tenant"] == "b"
    refused = client.post(f"{API}/external-tasks/{task_b['id']}/complete", json={"worker_id": "wb"}, headers=worker_a)
    assert_problem(refused, 404, "EXTERNAL_TASK_NOT_FOUND")
    start_invoice(client, tenant="a")
    [task_a] = fetched(client, "invoice.check", headers=worker_a)
    assert task_a["tenant"] == "a"


# -- long polling ----------------------------------------------------------------------------


def test_a_waiting_fetch_returns_as_soon_as_a_task_is_started(client: TestClient) -> None:
    deploy_invoice(client)
    answer: dict[str, Any] = {}

    def wait() -> None:
        began = time.monotonic()
        answer["tasks"] = fetched(client, "invoice.check", wait=20)
        answer["seconds"] = time.monotonic() - began

    waiting = threading.Thread(target=wait)
    waiting.start()
    time.sleep(0.3)  # the fetch is waiting by now
    started = time.monotonic()
    instance_id = start_invoice(client)
    waiting.join(10)
    assert not waiting.is_alive()
    assert [t["instance_id"] for t in answer["tasks"]] == [instance_id]
    assert time.monotonic() - started < 2.0  # woken by the commit, not at the 20 s timeout


def test_a_waiting_fetch_with_nothing_due_answers_an_empty_list_at_its_timeout(client: TestClient) -> None:
    deploy_invoice(client)
    began = time.monotonic()
    assert fetched(client, "invoice.check", wait=0.5) == []
    assert 0.45 <= time.monotonic() - began < 3.0


def test_a_waiting_fetch_wakes_when_another_workers_lock_expires(client: TestClient) -> None:
    deploy_invoice(client)
    start_invoice(client)
    [task] = fetched(client, "invoice.check", lock=0.5)
    began = time.monotonic()
    [again] = fetched(client, "invoice.check", worker="w2", wait=20)
    assert again["id"] == task["id"] and time.monotonic() - began < 3.0


def test_on_postgresql_a_task_started_by_another_server_wakes_a_waiting_fetch(postgres_url: str) -> None:
    """Two servers on one database: the commit on the second wakes the fetch waiting on the
    first through LISTEN/NOTIFY, long before the fetch's own re-check would."""
    from legato.api import create_app
    from legato.testing.identity import admin_headers

    first, second = Legato(postgres_url), Legato(postgres_url)
    try:
        with TestClient(create_app(first), headers=admin_headers(first)) as client:
            deploy_invoice(client)
            assert fetched(client, "invoice.check", wait=0.2) == []  # the listener is up now
            deadline = time.monotonic() + 5
            while not first.store.job_signals.cross_process and time.monotonic() < deadline:
                time.sleep(0.01)
            assert first.store.job_signals.cross_process  # so the fetch re-checks only every 30 s
            answer: dict[str, Any] = {}
            waiting = threading.Thread(target=lambda: answer.update(tasks=fetched(client, "invoice.check", wait=20)))
            waiting.start()
            time.sleep(0.3)
            began = time.monotonic()
            started = second.start("invoice", {"amount": 5})
            waiting.join(10)
            assert [t["instance_id"] for t in answer["tasks"]] == [started.instance_id]
            assert time.monotonic() - began < 0.9  # under the 1 s re-check: the notification did it
            [task] = answer["tasks"]
            assert report(client, task["id"], "complete").status_code == 204
            assert second.instance(started.instance_id)["waiting_at"] == ["pay_invoice"]
    finally:
        first.close()
        second.close()
