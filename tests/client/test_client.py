"""`legato.Client` against the real API: every verb, the pages, and the typed errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from legato import Client, LegatoError
from legato.access.authenticator import Authenticator
from legato.client import (
    ApiConflict,
    ApiError,
    ApiForbidden,
    ApiInvalidInput,
    ApiNotFound,
    ApiServerError,
    ApiTooManyRequests,
    ApiUnauthenticated,
    Page,
    ServerUnreachable,
)
from legato.errors import Conflict, InvalidInput, NotFound
from legato.runtime.app import Legato
from support import ORDER_YAML, Switch, eventually

INBOX_YAML = """\
process: inbox
steps:
  - start: received
  - user: read
    name: Read it
  - end: done
"""


def test_an_order_runs_through_every_kind_of_wait(client: Client, tmp_path: Path) -> None:
    model = tmp_path / "order.yaml"
    model.write_text(ORDER_YAML)
    deployed = client.deploy(model)
    assert (deployed["key"], deployed["version"], deployed["created"]) == ("order", 1, True)
    assert client.deploy(ORDER_YAML)["created"] is False  # the same model as text: unchanged

    started = client.start("order", {"amount": 50, "order_id": "A-1"}, business_key="A-1")
    assert started["created"] is True and started["status"] == "active"
    instance_id = started["instance_id"]
    [task] = eventually(lambda: client.tasks(instance_id=instance_id).items)
    assert task["element"] == "approve" and client.task(task["id"])["id"] == task["id"]
    assert client.complete_task(task["id"], {"approved": True})["status"] == "completed"

    eventually(lambda: client.instance(instance_id)["waiting_at"] == ["delivered"])
    delivered = client.send_message("order.delivered", "A-1", {"carrier": "DHL"})
    assert delivered == {**delivered, "correlated": "instance", "instance_id": instance_id}
    done = client.wait(instance_id, timeout=20)
    assert done["status"] == "completed"
    assert done["variables"] == {**done["variables"], "approved": True, "carrier": "DHL", "shipped": True}
    assert [s["key"] for s in client.definitions()] == ["order"]
    assert client.definition("order")["model"]["id"] == "order"
    assert "<bpmn:definitions" in client.export_bpmn("order")
    assert any(step["element"] == "approve" for step in client.history(instance_id))


def test_a_failed_step_is_repaired_with_new_variables(client: Client, switch: Switch) -> None:
    client.deploy(ORDER_YAML)
    instance_id = client.start("order", {"amount": 5, "order_id": "B-1"})["instance_id"]
    [task] = eventually(lambda: client.tasks(instance_id=instance_id).items)
    client.complete_task(task["id"])
    switch.failing = True
    eventually(lambda: client.instance(instance_id)["waiting_at"] == ["delivered"])
    client.send_message("order.delivered", "B-1")
    [incident] = eventually(lambda: client.incidents(instance_id=instance_id).items)
    assert client.incident(incident["id"])["message"] == "the carrier is down"
    assert [i["id"] for i in client.iter_incidents(process="order", element="ship")] == [incident["id"]]

    switch.failing = False
    retried = client.retry_incident(incident["id"], {"carrier": "backup"})
    assert retried["status"] == "resolved"
    assert client.wait(instance_id, timeout=20)["variables"]["carrier"] == "backup"
    with pytest.raises(ApiConflict) as again:
        client.retry_incident(incident["id"])
    assert again.value.code == "INCIDENT_NOT_OPEN" and again.value.status == 409


def test_variables_are_set_and_removed_and_an_instance_cancelled(client: Client) -> None:
    client.deploy(INBOX_YAML)
    instance_id = client.start("inbox", {"note": "x", "draft": True})["instance_id"]
    changed = client.set_variables(instance_id, {"note": "y"}, remove=["draft"])
    assert changed["variables"] == {"note": "y"}
    cancelled = client.cancel(instance_id, reason="not needed")
    assert cancelled["status"] == "cancelled"
    assert client.wait(instance_id)["status"] == "cancelled"
    with pytest.raises(ApiConflict) as twice:
        client.cancel(instance_id)
    assert twice.value.code == "INSTANCE_NOT_ACTIVE"


def test_start_many_is_retry_safe_with_an_idempotency_key(client: Client) -> None:
    client.deploy(INBOX_YAML)
    heard: list[str] = []
    first = client.start_many(
        "inbox", [{"n": n} for n in range(3)], idempotency_key="load", progress=lambda s: heard.append(s["instance_id"])
    )
    assert [s["created"] for s in first] == [True, True, True] and heard == [s["instance_id"] for s in first]
    again = client.start_many("inbox", [{"n": n} for n in range(4)], idempotency_key="load")
    assert [s["created"] for s in again] == [False, False, False, True]
    assert [s["instance_id"] for s in again[:3]] == [s["instance_id"] for s in first]
    with pytest.raises(ApiConflict) as conflict:  # the same key for a different request
        client.start("inbox", {"n": 99}, idempotency_key="load-1")
    assert conflict.value.code == "IDEMPOTENCY_CONFLICT"


def test_lists_are_pages_and_iter_follows_the_cursor(client: Client, http: TestClient) -> None:
    client.deploy(INBOX_YAML)
    ids = [s["instance_id"] for s in client.start_many("inbox", [{"n": n} for n in range(5)])]
    page = client.instances(process="inbox", limit=2)
    assert isinstance(page, Page) and len(page) == 2 and page.total == 5 and page.next_cursor
    assert [i["id"] for i in page] == [page[0]["id"], page[1]["id"]]
    assert page[0]["variables"] is None and client.instances(limit=1, variables=True)[0]["variables"] == {"n": 4}

    requests: list[str] = []
    http.event_hooks["request"].append(lambda request: requests.append(str(request.url)))
    walked = [i["id"] for i in client.iter_instances(process="inbox", limit=2)]
    assert sorted(walked) == sorted(ids) and len(set(walked)) == 5
    assert len(requests) == 3  # 2 + 2 + 1: a page only when the one before is used up
    eventually(lambda: len(client.tasks(limit=1000).items) == 5)
    assert len(list(client.iter_tasks(limit=2))) == 5
    assert len(list(client.iterate("/instances", process="inbox", var="n:3"))) == 1
    assert [i["id"] for i in client.instances(var=["n:4"])] == [ids[4]]


def test_refusals_are_typed_and_carry_the_stable_code(client: Client) -> None:
    with pytest.raises(ApiNotFound) as missing:
        client.instance("no-such-instance")
    assert missing.value.code == "INSTANCE_NOT_FOUND" and missing.value.problem["status"] == 404
    assert isinstance(missing.value, NotFound) and isinstance(missing.value, LegatoError)  # as embedded
    with pytest.raises(ApiNotFound, match="DEFINITION_NOT_FOUND"):
        client.start("nowhere")
    with pytest.raises(ApiInvalidInput) as invalid:
        client.deploy("process: broken\nsteps:\n  - start: a\n  - user: b\n    next: nowhere\n")
    assert invalid.value.code == "MODEL_INVALID" and invalid.value.problem["problems"][0]["element"] == "b"
    assert isinstance(invalid.value, InvalidInput)
    client.deploy(INBOX_YAML)
    with pytest.raises(ApiInvalidInput) as unstorable:
        client.start("inbox", {"big": 2**64})
    assert unstorable.value.code in {"VALUE_NOT_STORABLE", "VARIABLES_INVALID"}
    client.start("inbox")
    task_id = eventually(lambda: client.tasks().items)[0]["id"]
    client.complete_task(task_id)
    with pytest.raises(ApiConflict) as done:
        client.complete_task(task_id)
    assert done.value.code == "TASK_NOT_ACTIVE" and isinstance(done.value, Conflict)


def test_without_credentials_or_permission_the_server_refuses(http: TestClient, legato: Legato) -> None:
    with pytest.raises(ApiUnauthenticated) as anonymous:
        Client(http=http).instances()
    assert anonymous.value.code == "AUTHENTICATION_REQUIRED" and anonymous.value.status == 401
    with pytest.raises(ApiUnauthenticated) as wrong:
        Client(http=http, token="lgt_not-a-real-token").instances()
    assert wrong.value.code == "TOKEN_INVALID"

    authenticator = Authenticator(legato.store, clock=legato.clock)
    viewer = authenticator.create_user("vera", "vera-password-1")
    authenticator.directory.grant("viewer", "user", viewer.id, now=authenticator.now())
    reader = Client(http=http)
    assert reader.login("vera", "vera-password-1")["username"] == "vera"
    assert reader.instances().items == []  # the session cookie authenticates
    with pytest.raises(ApiForbidden) as denied:  # a change: the CSRF token goes along, the permission lacks
        reader.deploy(INBOX_YAML)
    assert denied.value.code == "PERMISSION_DENIED" and denied.value.problem["permission"] == "definitions:deploy"
    created = reader.create_token("vera's script", kind="personal", expires_in_days=1)  # a POST the CSRF token allows
    assert Client(http=http, token=created["token"]).me()["username"] == "vera"
    reader.logout()
    with pytest.raises(ApiUnauthenticated):
        reader.instances()
    with pytest.raises(ApiUnauthenticated) as failed:
        Client(http=http).login("vera", "wrong-password")
    assert failed.value.code == "LOGIN_FAILED"


# -- answers that are not the API's: a mock transport ------------------------------------------


def _mock(answer: Any) -> Client:
    return Client("http://legato.test", transport=httpx.MockTransport(answer))


def test_an_answer_without_a_problem_document_still_gets_a_code() -> None:
    client = _mock(lambda request: httpx.Response(502, text="<html><body>Bad   gateway</body></html>"))
    with pytest.raises(ApiServerError) as bad:
        client.instances()
    assert bad.value.code == "HTTP_502" and bad.value.detail == "<html><body>Bad gateway</body></html>"


def test_retry_after_is_kept_for_429_and_503() -> None:
    problem = {"code": "DATABASE_UNAVAILABLE", "status": 503, "detail": "the database cannot be reached"}
    client = _mock(lambda request: httpx.Response(503, json=problem, headers={"Retry-After": "7"}))
    with pytest.raises(ApiServerError) as unavailable:
        client.instance("x")
    assert (unavailable.value.code, unavailable.value.retry_after) == ("DATABASE_UNAVAILABLE", 7.0)
    limited = {"code": "RATE_LIMITED", "status": 429, "detail": "slow down"}
    client = _mock(lambda request: httpx.Response(429, json=limited, headers={"Retry-After": "3"}))
    with pytest.raises(ApiTooManyRequests) as slow:
        client.tasks()
    assert slow.value.retry_after == 3.0 and slow.value.code == "RATE_LIMITED"


def test_a_server_repeating_its_cursor_cannot_loop_the_client() -> None:
    client = _mock(lambda request: httpx.Response(200, json={"items": [{"id": 1}], "total": 9, "next_cursor": "same"}))
    walked = client.iter_instances(cursor="same")
    assert next(walked) == {"id": 1}
    with pytest.raises(LegatoError) as stuck:
        next(walked)
    assert getattr(stuck.value, "code", None) == "CURSOR_REPEATED"


def test_a_token_and_the_user_agent_go_with_every_request() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": [], "total": 0, "next_cursor": None})

    with Client("http://legato.test", token="lgt_abc", transport=httpx.MockTransport(answer)) as client:
        assert client.tasks(status="completed").total == 0
    assert seen[0].headers["Authorization"] == "Bearer lgt_abc"
    assert seen[0].headers["User-Agent"] == "legato-client"
    assert seen[0].url.path == "/api/v1/tasks" and seen[0].url.params["status"] == "completed"


def test_no_server_is_server_unreachable_naming_the_url() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = _mock(refuse)
    with pytest.raises(ServerUnreachable) as unreachable:
        client.health()
    assert unreachable.value.url == "http://legato.test" and unreachable.value.code == "SERVER_UNREACHABLE"
    assert "connection refused" in str(unreachable.value)


def test_deploy_names_the_format_for_text_and_refuses_an_unknown_one() -> None:
    names: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        names.append(request.content.split(b'filename="')[1].split(b'"')[0].decode())
        return httpx.Response(201, json={"key": "k"})

    client = _mock(answer)
    client.deploy("<definitions/>")
    client.deploy("process: p")
    client.deploy(b"{}", source_format="json")
    assert names == ["model.bpmn", "model.yaml", "model.json"]
    with pytest.raises(ValueError, match="source_format"):
        client.deploy("x", source_format="docx")


def test_bulk_cancel_and_retry_by_filter_with_a_preview(client: Client) -> None:
    from datetime import UTC, datetime, timedelta

    client.deploy(INBOX_YAML)
    ids = [client.start("inbox", business_key="dup")["instance_id"] for _ in range(3)]
    since = datetime.now(UTC) - timedelta(hours=1)
    preview = client.cancel_instances(process="inbox", business_key="dup", started_after=since, dry_run=True)
    assert (preview["total"], sorted(preview["ids"])) == (3, sorted(ids))
    report = client.cancel_instances(process="inbox", business_key="dup", limit=2, reason="duplicates")
    assert report["done"] == 2 and report["next_cursor"]
    rest = client.cancel_instances(process="inbox", business_key="dup", limit=2, cursor=report["next_cursor"])
    assert rest["done"] == 1 and rest["next_cursor"] is None
    assert {client.instance(i)["status"] for i in ids} == {"cancelled"}
    with pytest.raises(InvalidInput) as unfiltered:
        client.retry_incidents()
    assert unfiltered.value.code == "INVALID_FILTER"
    assert client.retry_incidents(all=True)["total"] == 0


def test_modify_instance_moves_a_token_and_refuses_a_bad_move(client: Client) -> None:
    client.deploy(INBOX_YAML)
    instance_id = client.start("inbox")["instance_id"]
    eventually(lambda: client.instance(instance_id)["waiting_at"] == ["read"])
    again = client.modify_instance(instance_id, start_before=["read"], reason="a second reader")
    assert [t["element"] for t in again["tasks"]] == ["read", "read"]
    with pytest.raises(ApiError) as refused:
        client.modify_instance(instance_id, cancel=["nowhere"])
    assert refused.value.code == "MODIFICATION_INVALID" and refused.value.status == 422


def test_migrate_instances_moves_them_to_the_new_version_and_names_what_cannot_move(client: Client) -> None:
    client.deploy(INBOX_YAML)
    instance_id = client.start("inbox")["instance_id"]
    eventually(lambda: client.instance(instance_id)["waiting_at"] == ["read"])
    client.deploy(INBOX_YAML.replace("user: read", "user: skim"))
    with pytest.raises(ApiError) as refused:
        client.migrate_instances("inbox", from_version=1, to_version=2, mapping={"read": "done"})
    assert refused.value.code == "MIGRATION_INVALID" and refused.value.status == 422
    preview = client.migrate_instances("inbox", from_version=1, to_version=2, dry_run=True)
    assert preview["failed"] == 1 and preview["items"][0]["problems"][0]["element"] == "read"
    report = client.migrate_instances("inbox", from_version=1, to_version=2, mapping={"read": "skim"})
    assert report["done"] == 1 and report["items"][0]["instance_id"] == instance_id
    moved = client.instance(instance_id)
    assert moved["version"] == 2 and moved["waiting_at"] == ["skim"]
