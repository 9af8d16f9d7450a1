"""The task lifecycle over HTTP: each action, who may take it, its refusals as problem
documents, and its entries in the instance's history and in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import API, TestClient, assert_problem

from legato.access.authenticator import Authenticator, ensure_admin
from legato.api import create_app
from legato.formats.builder import Process
from legato.runtime.app import Legato
from legato.runtime.clock import FakeClock
from legato.store import Store
from legato.store.audit import AuditFilter
from legato.testing.identity import admin_token


@pytest.fixture
def legato(tmp_path: Any) -> Iterator[Legato]:
    app = Legato(Store(str(tmp_path / "tasks.db"), audit_keys=(b"k" * 32,)), clock=FakeClock())
    authenticator = Authenticator(app.store, clock=app.clock)
    ensure_admin(authenticator, "admin password 1")
    directory = app.store.directory
    for user in ("ada", "bob", "cy"):
        authenticator.create_user(user, None)
        directory.grant("task-worker", "user", user, now=0)
    authenticator.create_user("olga", None)
    directory.grant("operator", "user", "olga", now=0)
    authenticator.create_user("vic", None)
    directory.grant("viewer", "user", "vic", now=0)
    directory.create_group("accounting", now=0)
    directory.create_group("juniors", now=0)
    directory.add_member("accounting", "group", "juniors")
    directory.add_member("juniors", "user", "cy")
    p = Process("invoice")
    p.start("s").then(
        p.user("approve", name="Approve", candidate_users=["ada"], candidate_groups=["accounting"], priority=70)
    ).then(p.end("e"))
    app.deploy(p.build())
    yield app
    app.close()


def token(legato: Legato, user: str) -> dict[str, str]:
    authenticator = Authenticator(legato.store, clock=legato.clock)
    principal = authenticator.principal_of(authenticator.directory.user(user))
    issued = authenticator.issue_token(name=f"{user}-test", kind="personal", creator=principal)
    return {"Authorization": f"Bearer {issued.token}"}


@pytest.fixture
def http(legato: Legato) -> Iterator[TestClient]:
    with TestClient(create_app(legato), headers={"Authorization": f"Bearer {admin_token(legato)}"}) as client:
        yield client


@pytest.fixture
def as_user(legato: Legato, http: TestClient) -> Any:
    headers = {user: token(legato, user) for user in ("ada", "bob", "cy", "olga", "vic")}

    def call(user: str, method: str, path: str, **kwargs: Any) -> Any:
        return http.request(method, f"{API}{path}", headers=headers[user], **kwargs)

    return call


def open_task(legato: Legato) -> str:
    started = legato.start("invoice", {"amount": 10})
    return str(legato.task_for(started.instance_id)["id"])


def audit(legato: Legato, action: str) -> list[dict[str, Any]]:
    return [r.public() for r in legato.store.audit.export(AuditFilter(action=action))]


def test_a_candidate_claims_and_completes_and_everything_is_recorded(legato: Legato, as_user: Any) -> None:
    task_id = open_task(legato)
    claimed = as_user("cy", "POST", f"/tasks/{task_id}/claim")  # cy is in juniors, within accounting
    assert claimed.status_code == 200, claimed.text
    body = claimed.json()
    assert (body["assignee"], body["priority"], body["process"], body["candidate_users"]) == (
        "cy",
        70,
        "invoice",
        ["ada"],
    )
    draft = as_user("cy", "PUT", f"/tasks/{task_id}/draft", json={"variables": {"approved": False}})
    assert draft.status_code == 200 and draft.json()["draft"] == {"approved": False}
    done = as_user("cy", "POST", f"/tasks/{task_id}/complete", json={"variables": {"approved": True}})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["ended_by"]) == ("completed", "cy")
    instance = legato.instance(task_id.rsplit(":", 1)[0])
    assert [(e["type"], e["actor"]) for e in instance["history"] if e["type"].startswith("task_")] == [
        ("task_claimed", "cy"),
        ("task_draft_saved", "cy"),
    ]
    (claim,) = audit(legato, "task.claim")
    assert (claim["actor"], claim["target"], claim["outcome"]) == ("cy", {"kind": "task", "id": task_id}, "ok")
    (saved,) = audit(legato, "task.draft")
    assert saved["details"]["variables"] == ["approved"]  # names, never values


def test_a_claim_by_a_non_candidate_is_403_and_a_claimed_task_is_409(legato: Legato, as_user: Any) -> None:
    task_id = open_task(legato)
    refused = as_user("bob", "POST", f"/tasks/{task_id}/claim")
    assert_problem(refused, 403, "TASK_NOT_CANDIDATE")
    assert as_user("ada", "POST", f"/tasks/{task_id}/claim").status_code == 200
    taken = assert_problem(as_user("cy", "POST", f"/tasks/{task_id}/claim"), 409, "TASK_ALREADY_CLAIMED")
    assert taken["assignee"] == "ada"
    assert_problem(as_user("cy", "POST", f"/tasks/{task_id}/complete", json={}), 403, "TASK_NOT_ASSIGNEE")
    assert_problem(as_user("cy", "POST", f"/tasks/{task_id}/unclaim"), 403, "TASK_NOT_ASSIGNEE")
    assert_problem(as_user("cy", "PUT", f"/tasks/{task_id}/draft", json={"variables": {}}), 403, "TASK_NOT_ASSIGNEE")
    (refusal,) = [r for r in audit(legato, "access.denied") if r["actor"] == "bob"]
    assert (refusal["outcome"], refusal["details"]["attempted"]) == ("refused", "task.claim")
    (conflict,) = [r for r in audit(legato, "task.claim") if r["outcome"] == "failed"]
    assert (conflict["actor"], conflict["code"]) == ("cy", "TASK_ALREADY_CLAIMED")
    assert legato.task(task_id)["assignee"] == "ada"


def test_a_viewer_may_not_claim_and_an_unknown_task_is_404(legato: Legato, as_user: Any) -> None:
    task_id = open_task(legato)
    assert_problem(as_user("vic", "POST", f"/tasks/{task_id}/claim"), 403, "PERMISSION_DENIED")
    assert_problem(as_user("ada", "POST", "/tasks/nope:3/claim"), 404, "TASK_NOT_FOUND")
    assert_problem(as_user("ada", "POST", "/tasks/nope/claim"), 404, "TASK_NOT_FOUND")


def test_an_operator_assigns_and_reassigns_and_a_task_worker_may_not(legato: Legato, as_user: Any) -> None:
    task_id = open_task(legato)
    assert_problem(
        as_user("ada", "POST", f"/tasks/{task_id}/assign", json={"assignee": "ada"}), 403, "PERMISSION_DENIED"
    )
    assigned = as_user("olga", "POST", f"/tasks/{task_id}/assign", json={"assignee": "bob"})
    assert assigned.status_code == 200 and assigned.json()["assignee"] == "bob"
    reassigned = as_user("olga", "POST", f"/tasks/{task_id}/assign", json={"assignee": "ada"})
    assert reassigned.json()["assignee"] == "ada"
    assert_problem(
        as_user("olga", "POST", f"/tasks/{task_id}/assign", json={"assignee": "ghost"}), 404, "USER_NOT_FOUND"
    )
    assert_problem(as_user("olga", "POST", f"/tasks/{task_id}/assign", json={"assignee": ""}), 400, "INVALID_INPUT")
    assert_problem(as_user("olga", "POST", f"/tasks/{task_id}/assign", json={}), 400, "INVALID_INPUT")
    details = [r["details"] for r in audit(legato, "task.assign") if r["outcome"] == "ok"]
    assert details == [{"assignee": "bob"}, {"assignee": "ada"}]
    # the operator completes a task that is not theirs
    done = as_user("olga", "POST", f"/tasks/{task_id}/complete", json={"variables": {}})
    assert done.status_code == 200 and done.json()["ended_by"] == "olga"


def test_delegate_and_resolve_over_http(legato: Legato, as_user: Any) -> None:
    task_id = open_task(legato)
    as_user("ada", "POST", f"/tasks/{task_id}/claim")
    delegated = as_user("ada", "POST", f"/tasks/{task_id}/delegate", json={"user": "bob"})
    assert delegated.status_code == 200, delegated.text
    assert (delegated.json()["assignee"], delegated.json()["owner"], delegated.json()["delegation"]) == (
        "bob",
        "ada",
        "pending",
    )
    assert_problem(as_user("bob", "POST", f"/tasks/{task_id}/complete", json={}), 409, "TASK_DELEGATION_PENDING")
    assert_problem(as_user("ada", "POST", f"/tasks/{task_id}/unclaim"), 403, "TASK_NOT_ASSIGNEE")
    resolved = as_user("bob", "POST", f"/tasks/{task_id}/resolve", json={"variables": {"checked": True}})
    assert resolved.status_code == 200
    assert (resolved.json()["assignee"], resolved.json()["delegation"], resolved.json()["draft"]) == (
        "ada",
        "resolved",
        {"checked": True},
    )
    assert_problem(as_user("ada", "POST", f"/tasks/{task_id}/resolve"), 409, "TASK_NOT_DELEGATED")
    assert_problem(as_user("ada", "POST", f"/tasks/{task_id}/delegate", json={"user": "ghost"}), 404, "USER_NOT_FOUND")
    (entry,) = [r for r in audit(legato, "task.delegate") if r["outcome"] == "ok"]
    assert entry["details"] == {"delegate": "bob", "owner": "ada"}
    assert audit(legato, "task.resolve")[0]["actor"] == "bob"


def test_bad_bodies_are_400_and_change_nothing(legato: Legato, as_user: Any) -> None:
    task_id = open_task(legato)
    as_user("ada", "POST", f"/tasks/{task_id}/claim")
    for body, code in (
        ({"variables": []}, "VARIABLES_INVALID"),
        ({"variables": {}, "x": 1}, "INVALID_INPUT"),
        ({}, "INVALID_INPUT"),
    ):
        assert_problem(as_user("ada", "PUT", f"/tasks/{task_id}/draft", json=body), 400, code)
    assert_problem(as_user("ada", "POST", f"/tasks/{task_id}/delegate", json={"user": 3}), 400, "INVALID_INPUT")
    assert legato.task(task_id)["draft"] is None


def test_comments_over_http(legato: Legato, as_user: Any) -> None:
    task_id = open_task(legato)
    added = as_user("cy", "POST", f"/tasks/{task_id}/comments", json={"text": "Amounts match"})
    assert added.status_code == 201, added.text
    assert (added.json()["author"], added.json()["text"]) == ("cy", "Amounts match")
    assert_problem(as_user("bob", "POST", f"/tasks/{task_id}/comments", json={"text": "hi"}), 403, "TASK_NOT_CANDIDATE")
    assert_problem(as_user("vic", "POST", f"/tasks/{task_id}/comments", json={"text": "hi"}), 403, "PERMISSION_DENIED")
    assert_problem(as_user("ada", "POST", f"/tasks/{task_id}/comments", json={"text": " "}), 400, "INVALID_INPUT")
    assert_problem(
        as_user("ada", "POST", f"/tasks/{task_id}/comments", json={"text": "x" * 10_001}), 400, "INVALID_INPUT"
    )
    listed = as_user("vic", "GET", f"/tasks/{task_id}/comments")  # reading needs tasks:read only
    assert [c["text"] for c in listed.json()["items"]] == ["Amounts match"]
    (entry,) = [r for r in audit(legato, "task.comment") if r["outcome"] == "ok"]
    assert entry["details"] == {"comment_id": added.json()["id"]}  # the id, never the text


def test_attachments_over_http_keep_bytes_and_type_and_download_as_attachments(legato: Legato, as_user: Any) -> None:
    task_id = open_task(legato)
    page = b"<html><script>alert(document.cookie)</script></html>"
    uploaded = as_user(
        "ada", "POST", f"/tasks/{task_id}/attachments", files={"file": ("../../résumé; x.html", page, "text/html")}
    )
    assert uploaded.status_code == 201, uploaded.text
    meta = uploaded.json()
    assert (meta["name"], meta["content_type"], meta["size"], meta["created_by"]) == (
        "résumé; x.html",
        "text/html",
        len(page),
        "ada",
    )
    download = as_user("vic", "GET", f"/tasks/{task_id}/attachments/{meta['id']}")
    assert download.status_code == 200 and download.content == page
    assert download.headers["content-type"].startswith("text/html")
    assert download.headers["content-disposition"].startswith('attachment; filename="r_sum__ x.html"')
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%3B%20x.html" in download.headers["content-disposition"]
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in download.headers["content-security-policy"]
    assert [a["id"] for a in as_user("vic", "GET", f"/tasks/{task_id}/attachments").json()["items"]] == [meta["id"]]
    assert_problem(as_user("ada", "GET", f"/tasks/{task_id}/attachments/999"), 404, "ATTACHMENT_NOT_FOUND")
    assert_problem(as_user("ada", "GET", "/tasks/nope:1/attachments"), 404, "TASK_NOT_FOUND")
    assert_problem(
        as_user("bob", "POST", f"/tasks/{task_id}/attachments", files={"file": ("a.txt", b"x", "text/plain")}),
        403,
        "TASK_NOT_CANDIDATE",
    )
    assert_problem(as_user("ada", "POST", f"/tasks/{task_id}/attachments", json={"file": "x"}), 400, "INVALID_INPUT")
    (entry,) = [r for r in audit(legato, "task.attach") if r["outcome"] == "ok"]
    assert entry["details"] == {
        "attachment_id": meta["id"],
        "name": meta["name"],
        "size": len(page),
        "content_type": "text/html",
    }


def test_a_file_over_the_setting_is_413_whether_or_not_its_size_is_declared(legato: Legato, as_user: Any) -> None:
    task_id = open_task(legato)
    legato.max_attachment_bytes = 2 * 1024 * 1024
    big = b"\0" * (2 * 1024 * 1024 + 1)
    refused = as_user("ada", "POST", f"/tasks/{task_id}/attachments", files={"file": ("big.bin", big)})
    assert assert_problem(refused, 413, "PAYLOAD_TOO_LARGE")["limit"] == 2 * 1024 * 1024
    way_over = as_user("ada", "POST", f"/tasks/{task_id}/attachments", files={"file": ("big.bin", big * 2)})
    assert_problem(way_over, 413, "PAYLOAD_TOO_LARGE")  # refused at the door, before the form is read
    fits = as_user("ada", "POST", f"/tasks/{task_id}/attachments", files={"file": ("ok.bin", big[:-1])})
    assert fits.status_code == 201 and fits.json()["size"] == 2 * 1024 * 1024
    assert len(legato.task_attachments(task_id)) == 1


# -- queries and saved filters ----------------------------------------------------------------


def _inbox(legato: Legato) -> dict[str, str]:
    p = Process("leave")
    p.start("s").then(p.user("grant", candidate_groups=["hr"], due_date="=due", priority="=prio")).then(p.end("e"))
    legato.deploy(p.build())
    ids = {}
    for name, process, variables in (
        ("mine", "invoice", {"amount": 1}),
        ("offered", "invoice", {"amount": 2}),
        ("late", "leave", {"due": "PT1H", "prio": 80}),
        ("soon", "leave", {"due": "P1D", "prio": 20}),
    ):
        ids[name] = str(legato.task_for(legato.start(process, variables).instance_id)["id"])
        legato.clock.advance(seconds=1)  # type: ignore[attr-defined]
    legato.claim_task(ids["mine"], "cy")
    legato.clock.advance(hours=2)  # type: ignore[attr-defined]
    return ids


def _listed(as_user: Any, user: str, ids: dict[str, str], **params: Any) -> list[str]:
    response = as_user(user, "GET", "/tasks", params=params)
    assert response.status_code == 200, response.text
    by_id = {v: k for k, v in ids.items()}
    body = response.json()
    assert body["total"] == len(body["items"])
    return [by_id[item["id"]] for item in body["items"]]


def test_my_tasks_my_groups_tasks_and_the_rest_of_the_inbox(legato: Legato, as_user: Any) -> None:
    ids = _inbox(legato)
    assert _listed(as_user, "cy", ids, mine="true") == ["mine"]
    assert _listed(as_user, "cy", ids, offered="true") == ["offered"]  # accounting, through juniors
    assert _listed(as_user, "ada", ids, offered="true") == ["offered"]  # by name
    assert _listed(as_user, "ada", ids, mine="true") == []
    assert _listed(as_user, "olga", ids, process="leave") == ["late", "soon"]
    assert _listed(as_user, "olga", ids, overdue="true") == ["late"]
    assert _listed(as_user, "olga", ids, due_within="P2D") == ["late", "soon"]
    assert _listed(as_user, "olga", ids, sort="priority", process="leave") == ["late", "soon"]
    assert _listed(as_user, "olga", ids, sort="due") == ["late", "soon", "mine", "offered"]
    assert _listed(as_user, "olga", ids, var="amount:2") == ["offered"]
    assert _listed(as_user, "olga", ids, candidate_group="hr", priority_max=50) == ["soon"]
    assert _listed(as_user, "olga", ids, due_before="2030-01-01T01:30:00Z") == ["late"]


def test_bad_task_queries_are_400_naming_the_field(legato: Legato, as_user: Any) -> None:
    for params, field in (
        ({"due_within": "soon"}, "due_within"),
        ({"sort": "name"}, None),
        ({"var": "amount"}, "var"),
        ({"mine": "true", "assignee": "ada"}, "mine"),
    ):
        refused = as_user("cy", "GET", "/tasks", params=params)
        assert refused.status_code == 400, (params, refused.text)
        if field is not None:
            assert refused.json()["field"] == field
    assert as_user("cy", "GET", "/tasks", params={"due_before": "tomorrow"}).status_code == 400
    assert_problem(as_user("cy", "GET", "/tasks", params={"filter": 99}), 404, "TASK_FILTER_NOT_FOUND")


def test_saved_filters_are_a_persons_own_or_shared_with_a_group(legato: Legato, as_user: Any) -> None:
    ids = _inbox(legato)
    legato.store.directory.add_member("accounting", "user", "ada")
    own = as_user("cy", "POST", "/task-filters", json={"name": "Mine first", "query": {"mine": True}})
    assert own.status_code == 201, own.text
    shared = as_user(
        "ada", "POST", "/task-filters", json={"name": "Team", "query": {"offered": True}, "group": "accounting"}
    )
    assert shared.status_code == 201 and shared.json()["group"] == "accounting"
    # cy (accounting through juniors) sees both, bob (no group) neither
    assert [f["name"] for f in as_user("cy", "GET", "/task-filters").json()["items"]] == ["Mine first", "Team"]
    assert as_user("bob", "GET", "/task-filters").json()["items"] == []
    assert _listed(as_user, "cy", ids, filter=shared.json()["id"]) == ["offered"]  # "offered" to the one who uses it
    assert _listed(as_user, "cy", ids, filter=own.json()["id"]) == ["mine"]
    assert_problem(as_user("bob", "GET", f"/task-filters/{own.json()['id']}"), 404, "TASK_FILTER_NOT_FOUND")
    assert_problem(as_user("bob", "GET", "/tasks", params={"filter": own.json()["id"]}), 404, "TASK_FILTER_NOT_FOUND")
    # only the owner changes or deletes; only a member shares with a group
    change = {"name": "Team, due first", "query": {"offered": True, "sort": "due"}, "group": "accounting"}
    assert_problem(
        as_user("cy", "PUT", f"/task-filters/{shared.json()['id']}", json=change), 403, "TASK_FILTER_NOT_OWNED"
    )
    assert (
        as_user("ada", "PUT", f"/task-filters/{shared.json()['id']}", json=change).json()["name"] == "Team, due first"
    )
    outsider = {"name": "HR", "query": {}, "group": "juniors"}
    assert_problem(as_user("ada", "POST", "/task-filters", json=outsider), 403, "TASK_FILTER_NOT_OWNED")
    assert_problem(
        as_user("olga", "POST", "/task-filters", json={**outsider, "group": "nobody"}), 404, "GROUP_NOT_FOUND"
    )
    bad = as_user("cy", "POST", "/task-filters", json={"name": "x", "query": {"due_within": "later"}})
    assert assert_problem(bad, 400, "INVALID_FILTER")["field"] == "due_within"
    assert_problem(
        as_user("cy", "POST", "/task-filters", json={"name": "x", "query": {"limit": 5}}), 400, "INVALID_FILTER"
    )
    assert_problem(as_user("cy", "DELETE", f"/task-filters/{shared.json()['id']}"), 403, "TASK_FILTER_NOT_OWNED")
    assert as_user("olga", "DELETE", f"/task-filters/{shared.json()['id']}").status_code == 204  # an operator may
    assert [f["name"] for f in as_user("cy", "GET", "/task-filters").json()["items"]] == ["Mine first"]
    created = [r for r in audit(legato, "task_filter.create") if r["outcome"] == "ok"]
    assert created[0]["details"] == {"name": "Mine first", "fields": ["mine"]}


def test_patch_changes_dates_and_priority_and_a_bad_date_is_422(legato: Legato, as_user: Any) -> None:
    task_id = open_task(legato)
    as_user("ada", "POST", f"/tasks/{task_id}/claim")
    changed = as_user("ada", "PATCH", f"/tasks/{task_id}", json={"due": "2030-02-01T09:00:00Z", "priority": 95})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["due_at"], changed.json()["priority"]) == ("2030-02-01T09:00:00Z", 95)
    bad = as_user("ada", "PATCH", f"/tasks/{task_id}", json={"follow_up": "the day after"})
    assert assert_problem(bad, 422, "TASK_DATE_INVALID")["field"] == "follow_up"
    assert_problem(as_user("cy", "PATCH", f"/tasks/{task_id}", json={"priority": 1}), 403, "TASK_NOT_ASSIGNEE")
    assert_problem(as_user("ada", "PATCH", f"/tasks/{task_id}", json={}), 400, "INVALID_INPUT")
    assert_problem(as_user("ada", "PATCH", "/tasks/nope:1", json={"priority": 1}), 404, "TASK_NOT_FOUND")
    (entry,) = [r for r in audit(legato, "task.update") if r["outcome"] == "ok"]
    assert entry["details"] == {"fields": ["due", "priority"]}
    assert legato.task(task_id)["priority"] == 95
