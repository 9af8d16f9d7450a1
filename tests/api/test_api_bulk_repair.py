"""Bulk retry and bulk cancel over HTTP: preview, results per row, cursors, bad input, permissions, audit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import API, TestClient, assert_problem, onboarding_legato

from legato.access.authenticator import Authenticator
from legato.api import create_app
from legato.runtime.app import Legato
from legato.store.audit import AuditFilter
from legato.testing.identity import admin_token
from support import eventually


@pytest.fixture
def legato(tmp_path: Any) -> Iterator[Legato]:
    app = onboarding_legato(str(tmp_path / "bulk.db"))
    yield app
    app.close()


@pytest.fixture
def client(legato: Legato) -> Iterator[TestClient]:
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato, worker=True), headers=headers) as test_client:
        yield test_client


def start_failing(client: TestClient, n: int, **body: Any) -> list[str]:
    ids = []
    for _ in range(n):
        response = client.post(
            f"{API}/definitions/onboarding/instances", json={"variables": {"customer_id": "C-0"}, **body}
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["instance_id"])
    eventually(lambda: client.get(f"{API}/incidents").json()["total"] >= n)
    return ids


def test_preview_then_retry_with_a_common_fix(client: TestClient, legato: Legato) -> None:
    ids = start_failing(client, 5)
    preview = client.post(f"{API}/incidents/retry", json={"element": "lookup", "error": "no customer", "dry_run": True})
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert (body["dry_run"], body["total"], body["matched"], body["done"], body["items"]) == (True, 5, 5, 0, [])
    assert len(body["ids"]) == 5
    assert client.get(f"{API}/incidents").json()["total"] == 5  # the preview changed nothing

    done = client.post(f"{API}/incidents/retry", json={"element": "lookup", "variables": {"customer_id": "C-17"}})
    assert done.status_code == 200, done.text
    report = done.json()
    assert (report["done"], report["skipped"], report["failed"], report["next_cursor"]) == (5, 0, 0, None)
    assert sorted(item["instance_id"] for item in report["items"]) == sorted(ids)
    assert {item["result"] for item in report["items"]} == {"done"}
    for instance_id in ids:
        shown = eventually(
            lambda i=instance_id: (d := client.get(f"{API}/instances/{i}").json())["waiting_at"] == ["welcome"] and d
        )
        assert shown["variables"]["customer_name"] == "Ada Lovelace"
    again = client.post(f"{API}/incidents/retry", json={"element": "lookup"}).json()
    assert (again["total"], again["done"], again["items"]) == (0, 0, [])  # nothing twice

    rows = [r.public() for r in legato.store.audit.export(AuditFilter(action="incident.retry_bulk"))]
    assert [r["details"].get("done") for r in rows] == [0, 5, 0]  # the preview, the retry, the second run
    row = rows[1]
    assert row["actor"] == "admin" and row["details"]["filter"] == {"element": "lookup"}
    assert sorted(row["details"]["instances"]) == sorted(ids)
    assert row["details"]["variables"] == ["customer_id"]  # names, never the values


def test_a_limit_per_request_and_the_cursor_to_go_on(client: TestClient) -> None:
    ids = start_failing(client, 5)
    first = client.post(f"{API}/incidents/retry", json={"process": "onboarding", "limit": 2, "dry_run": True}).json()
    assert first["matched"] == 2 and first["total"] == 5 and first["next_cursor"]
    seen: list[str] = []
    cursor = None
    while True:
        answer = client.post(
            f"{API}/incidents/retry", json={"process": "onboarding", "limit": 2, "cursor": cursor}
        ).json()
        seen += [item["instance_id"] for item in answer["items"]]
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)


def test_bulk_cancel_by_business_key_with_the_reason_in_each_history(client: TestClient) -> None:
    stuck = start_failing(client, 3, business_key="withdrawn")
    other = start_failing(client, 1)
    preview = client.post(f"{API}/instances/cancel", json={"business_key": "withdrawn", "dry_run": True}).json()
    assert (preview["total"], sorted(preview["ids"])) == (3, sorted(stuck))
    report = client.post(
        f"{API}/instances/cancel", json={"business_key": "withdrawn", "reason": "product withdrawn"}
    ).json()
    assert report["done"] == 3 and report["action"] == "cancel"
    for instance_id in stuck:
        history = client.get(f"{API}/instances/{instance_id}/history").json()["items"]
        [cancelled] = [e for e in history if e["type"] == "instance_cancelled"]
        assert cancelled["actor"] == "admin"
    assert client.get(f"{API}/instances/{other[0]}").json()["status"] == "active"


def test_filters_that_match_nothing_answer_empty_not_an_error(client: TestClient) -> None:
    for path, body in (
        ("/incidents/retry", {"element": "nowhere"}),
        ("/incidents/retry", {"process": "no-such-process"}),
        ("/instances/cancel", {"waiting_at": "nowhere"}),
        ("/instances/cancel", {"var": ["customer_id:nobody"]}),
    ):
        answer = client.post(API + path, json=body)
        assert answer.status_code == 200, (path, answer.text)
        assert (answer.json()["total"], answer.json()["items"], answer.json()["next_cursor"]) == (0, [], None)


def test_bad_input_is_a_problem_naming_the_field(client: TestClient) -> None:
    problem = assert_problem(client.post(f"{API}/incidents/retry", json={}), 400, "INVALID_FILTER")
    assert problem["field"] == "all"
    assert_problem(client.post(f"{API}/instances/cancel", json={"dry_run": True}), 400, "INVALID_FILTER")
    assert client.post(f"{API}/instances/cancel", json={"all": True, "dry_run": True}).status_code == 200
    problem = assert_problem(client.post(f"{API}/incidents/retry", json={"version": 1}), 400, "INVALID_FILTER")
    assert problem["field"] == "version"
    assert_problem(
        client.post(f"{API}/instances/cancel", json={"process": "onboarding", "version": 9}),
        404,
        "DEFINITION_NOT_FOUND",
    )
    for body in ({"all": True, "limit": 0}, {"all": True, "limit": 501}, {"all": True, "colour": "red"}):
        response = client.post(f"{API}/incidents/retry", json=body)
        assert 400 <= response.status_code < 500, (body, response.text)
    assert_problem(client.post(f"{API}/incidents/retry", json={"all": True, "cursor": "bogus"}), 400, "INVALID_CURSOR")
    problem = assert_problem(client.post(f"{API}/instances/cancel", json={"var": ["no-colon"]}), 400, "INVALID_FILTER")
    assert problem["field"] == "var"


def test_a_common_fix_needs_variables_update(client: TestClient, legato: Legato) -> None:
    start_failing(client, 1)
    authenticator = Authenticator(legato.store, clock=legato.clock)
    admin = authenticator.principal_of(authenticator.directory.user("admin"))
    token = authenticator.issue_token(name="ops", kind="service", creator=admin, permissions=["incidents:retry"]).token
    headers = {"Authorization": f"Bearer {token}"}
    body = {"element": "lookup", "variables": {"customer_id": "C-17"}}
    refused = client.post(f"{API}/incidents/retry", json=body, headers=headers)
    problem = assert_problem(refused, 403, "PERMISSION_DENIED")
    assert problem["permission"] == "variables:update"
    plain = client.post(f"{API}/incidents/retry", json={"element": "lookup"}, headers=headers)
    assert plain.status_code == 200 and plain.json()["done"] == 1
