"""The human task lifecycle on SQLite and PostgreSQL: what a task holds when it opens, and
every action people take on it, with its rules, its history entry and its refusals."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from legato.errors import (
    AttachmentNotFound,
    InvalidInput,
    ModelInvalid,
    PayloadTooLarge,
    TaskAlreadyClaimed,
    TaskDateInvalid,
    TaskDelegationPending,
    TaskNotActive,
    TaskNotAssignee,
    TaskNotCandidate,
    TaskNotDelegated,
    TaskNotFound,
)
from legato.formats.builder import Process
from legato.runtime.app import Legato
from legato.runtime.clock import FakeClock
from legato.store import Store
from legato.store.task_actions import TaskActor

START = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)  # a Friday morning


@pytest.fixture(params=["sqlite", "postgres"])
def app(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Legato]:
    url = str(tmp_path / "tasks.db") if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))
    legato = Legato(Store(url), clock=FakeClock(START))
    directory = legato.store.directory
    for user in ("ada", "bob", "cy", "dee"):
        directory.create_user(user, password_hash=None, now=0)
    for group in ("finance", "accounting", "juniors"):
        directory.create_group(group, now=0)
    directory.add_member("accounting", "group", "juniors")  # juniors are accountants too
    directory.add_member("juniors", "user", "cy")
    directory.add_member("finance", "user", "bob")
    legato.deploy(approval())
    yield legato
    legato.close()


def approval() -> Any:
    p = Process("approval")
    p.start("start").then(
        p.user(
            "approve",
            name="Approve ${amount} EUR",
            candidate_users=["ada"],
            candidate_groups=["Accounting"],
            description='="for " + customer',
            due_date="P2D",
            follow_up_date="=follow_up",
            priority="=if amount > 1000 then 80 else 40",
        )
    ).then(p.end("done"))
    return p.build()


def open_task(app: Legato, **variables: Any) -> dict[str, Any]:
    started = app.start(
        "approval", {"amount": 1200, "customer": "ACME", "follow_up": "2026-12-05T08:00:00Z"} | variables
    )
    return app.task_for(started.instance_id)


def history(app: Legato, task: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in app.instance(task["instance_id"])["history"] if e["type"].startswith("task_")]


# -- what a task holds ---------------------------------------------------------------------


def test_a_task_opens_with_its_people_schedule_priority_and_texts_evaluated(app: Legato) -> None:
    task = open_task(app)
    assert task["name"] == "Approve 1200 EUR"
    assert task["description"] == "for ACME"
    assert task["candidate_users"] == ["ada"] and task["candidate_groups"] == ["Accounting"]
    assert task["due_at"] == "2026-12-06T09:00:00+00:00"  # P2D from its creation
    assert task["follow_up_at"] == "2026-12-05T08:00:00+00:00"
    assert task["priority"] == 80
    assert task["process"] == "approval"
    assert task["assignee"] is None and task["owner"] is None and task["delegation"] is None
    assert open_task(app, amount=10)["priority"] == 40


def test_a_date_expression_giving_no_date_holds_the_instance_as_an_incident(app: Legato) -> None:
    started = app.start("approval", {"amount": 1, "customer": "x", "follow_up": "next tuesday"})
    instance = app.instance(started.instance_id)
    assert instance["tasks"] == []
    (incident,) = instance["incidents"]
    assert "follow-up date" in incident["message"] and "next tuesday" in incident["message"]


def test_a_fixed_due_date_that_does_not_parse_is_refused_at_deploy(app: Legato) -> None:
    p = Process("bad")
    p.start("s").then(p.user("u", due_date="tomorrow noon")).then(p.end("e"))
    with pytest.raises(ModelInvalid) as caught:
        app.deploy(p.build())
    assert "'u'" in str(caught.value) and "due date" in str(caught.value)
    p = Process("bad2")
    p.start("s").then(p.user("u", priority="urgent")).then(p.end("e"))
    with pytest.raises(ModelInvalid, match="priority"):
        app.deploy(p.build())


# -- claim and unclaim ------------------------------------------------------------------------


def test_a_candidate_user_claims_and_the_claim_is_in_the_history(app: Legato) -> None:
    task = open_task(app)
    claimed = app.claim_task(task["id"], "ada")
    assert claimed["assignee"] == "ada" and claimed["updated_at"] is not None
    (event,) = history(app, task)
    assert (event["type"], event["actor"], event["element"], event["data"]) == (
        "task_claimed",
        "ada",
        "approve",
        {"assignee": "ada"},
    )


def test_a_member_of_a_nested_candidate_group_claims(app: Legato) -> None:
    task = open_task(app)
    assert app.claim_task(task["id"], "cy")["assignee"] == "cy"  # cy is in juniors, inside accounting


def test_someone_not_offered_the_task_cannot_claim_it(app: Legato) -> None:
    task = open_task(app)
    with pytest.raises(TaskNotCandidate):
        app.claim_task(task["id"], "bob")  # finance only
    assert app.task(task["id"])["assignee"] is None
    assert history(app, task) == []


def test_a_claimed_task_cannot_be_claimed_by_another_but_again_by_its_assignee(app: Legato) -> None:
    task = open_task(app)
    app.claim_task(task["id"], "ada")
    with pytest.raises(TaskAlreadyClaimed) as caught:
        app.claim_task(task["id"], "cy")
    assert caught.value.code == "TASK_ALREADY_CLAIMED" and caught.value.details["assignee"] == "ada"
    assert app.claim_task(task["id"], "ADA")["assignee"] == "ada"  # user names are not case-sensitive


def test_two_claims_at_once_give_the_task_to_exactly_one(app: Legato) -> None:
    task = open_task(app)
    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def claim(user: str) -> None:
        barrier.wait()
        try:
            app.claim_task(task["id"], user)
            outcomes[user] = "claimed"
        except TaskAlreadyClaimed:
            outcomes[user] = "refused"

    threads = [threading.Thread(target=claim, args=(user,)) for user in ("ada", "cy")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["claimed", "refused"]
    winner = next(user for user, outcome in outcomes.items() if outcome == "claimed")
    assert app.task(task["id"])["assignee"] == winner
    assert [e["actor"] for e in history(app, task)] == [winner]


def test_a_task_without_candidates_is_open_to_anyone(app: Legato) -> None:
    p = Process("open")
    p.start("s").then(p.user("u")).then(p.end("e"))
    app.deploy(p.build())
    task = app.task_for(app.start("open").instance_id)
    assert app.claim_task(task["id"], "dee")["assignee"] == "dee"


def test_only_the_assignee_or_an_operator_unclaims(app: Legato) -> None:
    task = open_task(app)
    app.claim_task(task["id"], "ada")
    with pytest.raises(TaskNotAssignee):
        app.unclaim_task(task["id"], user="cy")
    assert app.unclaim_task(task["id"], user="ada")["assignee"] is None
    app.claim_task(task["id"], "cy")
    assert app.unclaim_task(task["id"])["assignee"] is None  # the program acts as an operator
    assert [(e["type"], e["data"]) for e in history(app, task)][-1] == ("task_unclaimed", {"previous": "cy"})


# -- assign -----------------------------------------------------------------------------------


def test_an_operator_assigns_reassigns_and_unassigns(app: Legato) -> None:
    task = open_task(app)
    operator = TaskActor(name="olga", operator=True)
    assert app.assign_task(task["id"], "bob", user=operator)["assignee"] == "bob"  # need not be a candidate
    assert app.assign_task(task["id"], "dee", user=operator)["assignee"] == "dee"
    assert app.assign_task(task["id"], None, user=operator)["assignee"] is None
    assert [(e["type"], e["actor"], e["data"]) for e in history(app, task)] == [
        ("task_assigned", "olga", {"assignee": "bob", "previous": None}),
        ("task_reassigned", "olga", {"assignee": "dee", "previous": "bob"}),
        ("task_unassigned", "olga", {"assignee": None, "previous": "dee"}),
    ]


def test_a_person_who_is_not_an_operator_cannot_assign(app: Legato) -> None:
    task = open_task(app)
    app.claim_task(task["id"], "ada")
    with pytest.raises(TaskNotAssignee):
        app.assign_task(task["id"], "cy", user="ada")
    with pytest.raises(InvalidInput):
        app.assign_task(task["id"], "  ")


# -- delegate and resolve --------------------------------------------------------------------


def test_delegation_goes_to_the_delegate_and_resolves_back_to_the_owner(app: Legato) -> None:
    task = open_task(app)
    app.claim_task(task["id"], "ada")
    delegated = app.delegate_task(task["id"], "bob", user="ada")
    assert (delegated["assignee"], delegated["owner"], delegated["delegation"]) == ("bob", "ada", "pending")
    with pytest.raises(TaskDelegationPending):
        app.complete_task(task["id"], {"approved": True}, user="bob")
    with pytest.raises(TaskDelegationPending):
        app.complete_task(task["id"], {"approved": True})  # not even an operator completes it now
    with pytest.raises(TaskNotAssignee):
        app.resolve_task(task["id"], user="ada")  # the delegate resolves, not the owner
    resolved = app.resolve_task(task["id"], {"approved": True, "note": "checked"}, user="bob")
    assert (resolved["assignee"], resolved["owner"], resolved["delegation"]) == ("ada", "ada", "resolved")
    assert resolved["draft"] == {"approved": True, "note": "checked"}
    with pytest.raises(TaskNotDelegated):
        app.resolve_task(task["id"], user="ada")
    app.complete_task(task["id"], resolved["draft"], user="ada")
    assert app.instance(task["instance_id"])["status"] == "completed"
    assert [(e["type"], e["actor"]) for e in history(app, task)] == [
        ("task_claimed", "ada"),
        ("task_delegated", "ada"),
        ("task_resolved", "bob"),
    ]
    resolved_event = history(app, task)[2]
    assert resolved_event["data"] == {"owner": "ada", "delegate": "bob", "variables": ["approved", "note"]}


def test_only_the_assignee_delegates_and_not_to_the_owner(app: Legato) -> None:
    task = open_task(app)
    app.claim_task(task["id"], "ada")
    with pytest.raises(TaskNotAssignee):
        app.delegate_task(task["id"], "bob", user="cy")
    with pytest.raises(InvalidInput):
        app.delegate_task(task["id"], "ADA", user="ada")


# -- drafts and completion -------------------------------------------------------------------


def test_the_assignee_saves_a_draft_which_a_later_one_replaces(app: Legato) -> None:
    task = open_task(app)
    with pytest.raises(TaskNotAssignee):
        app.save_task_draft(task["id"], {"approved": False}, user="ada")  # claim first
    app.claim_task(task["id"], "ada")
    app.save_task_draft(task["id"], {"approved": False, "comment": "half"}, user="ada")
    assert app.save_task_draft(task["id"], {"approved": True}, user="ada")["draft"] == {"approved": True}
    with pytest.raises(TaskNotAssignee):
        app.save_task_draft(task["id"], {"approved": False}, user="cy")
    assert app.instance(task["instance_id"])["variables"].get("approved") is None  # a draft is not a variable
    assert history(app, task)[-1]["data"] == {"variables": ["approved"]}


def test_only_the_assignee_completes_unless_an_operator(app: Legato) -> None:
    task = open_task(app)
    with pytest.raises(TaskNotAssignee):
        app.complete_task(task["id"], {}, user="ada")  # not claimed yet
    app.claim_task(task["id"], "ada")
    with pytest.raises(TaskNotAssignee):
        app.complete_task(task["id"], {}, user="cy")
    assert app.instance(task["instance_id"])["status"] == "active"
    app.complete_task(task["id"], {"approved": True}, user=TaskActor(name="olga", operator=True))
    finished = app.task(task["id"])
    assert (finished["status"], finished["ended_by"]) == ("completed", "olga")
    with pytest.raises(TaskNotActive):
        app.claim_task(task["id"], "ada")


def test_an_unknown_task_is_not_found(app: Legato) -> None:
    for task_id in ("nope", "nope:1", "x:", ":3", "a:99999999999999999999"):
        with pytest.raises(TaskNotFound):
            app.claim_task(task_id, "ada")


def test_an_action_on_a_task_of_an_unseen_tenant_is_not_found(app: Legato) -> None:
    task = open_task(app)
    with app.store.database.write() as conn:
        conn.execute(text("UPDATE user_tasks SET tenant_id = 'other' WHERE id = :id"), {"id": task["id"]})
    with pytest.raises(TaskNotFound):
        app.claim_task(task["id"], "ada", visible=frozenset({"mine"}))


def test_candidate_rows_follow_the_task_and_go_when_it_ends(app: Legato) -> None:
    task = open_task(app)
    with app.store.database.read() as conn:
        rows = conn.execute(text("SELECT kind, name FROM task_candidates WHERE task_id = :id"), {"id": task["id"]})
        assert sorted(tuple(r) for r in rows) == [("group", "accounting"), ("user", "ada")]
    app.complete_task(task["id"], {})
    with app.store.database.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM task_candidates")).scalar() == 0


def test_an_evaluation_error_names_the_attribute(app: Legato) -> None:
    p = Process("numbers")
    p.start("s").then(p.user("u", candidate_users=["=who"])).then(p.end("e"))
    app.deploy(p.build())
    started = app.start("numbers", {"who": 7})
    (incident,) = app.instance(started.instance_id)["incidents"]
    assert "candidate users" in incident["message"] and incident["error_type"] == "ExpressionError"


# -- comments and attachments ----------------------------------------------------------------


def test_the_tasks_people_comment_and_others_may_not(app: Legato) -> None:
    task = open_task(app)
    first = app.comment_task(task["id"], "Checked the amounts", user="cy")  # a candidate through juniors
    assert (first["author"], first["text"]) == ("cy", "Checked the amounts")
    with pytest.raises(TaskNotCandidate):
        app.comment_task(task["id"], "me too", user="bob")
    with pytest.raises(InvalidInput):
        app.comment_task(task["id"], "   ", user="ada")
    app.comment_task(task["id"], "Looks right", user="ada")
    assert [c["text"] for c in app.task_comments(task["id"])] == ["Checked the amounts", "Looks right"]
    event = history(app, task)[0]
    assert (event["type"], event["actor"], event["data"]) == ("task_commented", "cy", {"comment_id": first["id"]})


def test_a_file_is_kept_with_its_type_and_a_harmless_name(app: Legato) -> None:
    task = open_task(app)
    content = b"%PDF-1.7\n" + bytes(range(256)) * 40
    meta = app.attach_to_task(
        task["id"], "../../etc/\u202egpj.exe", content, content_type="Application/PDF; x=1", user="ada"
    )
    assert meta["name"] == "gpj.exe"  # no folders, no right-to-left override
    assert (meta["content_type"], meta["size"], meta["created_by"]) == ("application/pdf", len(content), "ada")
    stored, again = app.task_attachment(task["id"], meta["id"])
    assert again == content and stored == meta
    odd = app.attach_to_task(task["id"], "C:\\Users\\x\\report.txt", b"", content_type="not a type")
    assert (odd["name"], odd["content_type"], odd["size"]) == ("report.txt", "application/octet-stream", 0)
    assert app.attach_to_task(task["id"], "...", b"x")["name"] == "attachment"
    long = app.attach_to_task(task["id"], "a" * 400 + ".xlsx", b"x")
    assert len(long["name"]) == 255 and long["name"].endswith(".xlsx")
    assert [a["id"] for a in app.task_attachments(task["id"])] == [meta["id"], odd["id"], long["id"] - 1, long["id"]]
    assert history(app, task)[0]["data"] == {"attachment_id": meta["id"], "name": "gpj.exe", "size": len(content)}


def test_a_file_over_the_limit_is_refused_and_nothing_is_kept(app: Legato) -> None:
    task = open_task(app)
    app.max_attachment_bytes = 1000
    with pytest.raises(PayloadTooLarge) as caught:
        app.attach_to_task(task["id"], "big.bin", b"x" * 1001, user="ada")
    assert caught.value.status == 413 and caught.value.details["limit"] == 1000
    assert app.task_attachments(task["id"]) == [] and history(app, task) == []
    with pytest.raises(TaskNotCandidate):
        app.attach_to_task(task["id"], "a.txt", b"x", user="bob")
    with pytest.raises(AttachmentNotFound):
        app.task_attachment(task["id"], 99)


def test_a_comment_on_an_ended_task_is_refused_but_its_comments_stay_readable(app: Legato) -> None:
    task = open_task(app)
    app.comment_task(task["id"], "before", user="ada")
    app.complete_task(task["id"], {})
    with pytest.raises(TaskNotActive):
        app.comment_task(task["id"], "after", user="ada")
    assert [c["text"] for c in app.task_comments(task["id"])] == ["before"]
    with pytest.raises(TaskNotFound):
        app.task_comments("nope:1")


# -- changing a task's dates, priority and texts ------------------------------------------------


def test_the_assignee_moves_the_due_date_and_the_history_says_to_what(app: Legato) -> None:
    task = open_task(app)
    with pytest.raises(TaskNotAssignee):
        app.update_task(task["id"], {"due": "P5D"}, user="ada")  # a candidate, not yet the assignee
    app.claim_task(task["id"], "ada")
    changed = app.update_task(task["id"], {"due": "P5D", "priority": 99, "follow_up": None}, user="ada")
    assert (changed["due_at"], changed["priority"], changed["follow_up_at"]) == ("2026-12-09T09:00:00+00:00", 99, None)
    fixed = app.update_task(task["id"], {"due": "2026-12-24T12:00:00+01:00", "name": "Approve now"}, user="ada")
    assert (fixed["due_at"], fixed["name"]) == ("2026-12-24T11:00:00+00:00", "Approve now")
    event = history(app, task)[-1]
    assert (event["type"], event["actor"], event["data"]) == (
        "task_updated",
        "ada",
        {"due_at": "2026-12-24T11:00:00+00:00", "name": "Approve now"},
    )


def test_bad_changes_are_refused_naming_the_field_and_change_nothing(app: Legato) -> None:
    task = open_task(app)
    for changes, error, field in (
        ({"due": "next friday"}, TaskDateInvalid, "due"),
        ({"follow_up": "2026-02-30T10:00:00Z"}, TaskDateInvalid, "follow_up"),
        ({"due": 5}, TaskDateInvalid, "due"),
        ({"priority": -1}, InvalidInput, "priority"),
        ({"priority": "7"}, InvalidInput, "priority"),
        ({"name": "  "}, InvalidInput, "name"),
        ({"assignee": "ada"}, InvalidInput, "assignee"),
    ):
        with pytest.raises(error) as caught:
            app.update_task(task["id"], changes)
        assert caught.value.details["field"] == field, changes
    assert caught.value.status == 400
    with pytest.raises(TaskDateInvalid) as dated:
        app.update_task(task["id"], {"due": "soon"})
    assert dated.value.status == 422 and dated.value.code == "TASK_DATE_INVALID"
    assert app.task(task["id"])["due_at"] == task["due_at"] and history(app, task) == []
