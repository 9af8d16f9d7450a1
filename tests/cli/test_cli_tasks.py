"""`legato tasks ...`: each action on a user task from the command line, against the real API."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import Run

from legato.access.authenticator import Authenticator
from legato.formats.builder import Process
from legato.runtime.app import Legato


def _task(legato: Legato) -> str:
    p = Process("review")
    p.start("s").then(p.user("review", name="Review", candidate_groups=["audit"], due_date="P1D")).then(p.end("e"))
    legato.deploy(p.build())
    Authenticator(legato.store, clock=legato.clock).create_user("bob", None)
    return str(legato.task_for(legato.start("review").instance_id)["id"])


def test_claim_delegate_resolve_draft_and_complete(run: Run, legato: Legato) -> None:
    task_id = _task(legato)
    listed = run("tasks")
    header = listed.stdout.splitlines()[0].split()
    assert header == ["ID", "TASK", "STATUS", "ASSIGNEE", "GROUPS", "DUE", "INSTANCE", "CREATED"]
    assert run("tasks", "claim", task_id).stdout == f"claimed task {task_id} (review): assignee admin\n"
    assert run("tasks", "delegate", task_id, "bob").stdout == (
        f"delegated task {task_id} (review): assignee bob, owner admin\n"
    )
    refused = run("tasks", "complete", task_id)
    assert refused.exit_code == 1 and refused.stderr.startswith("error TASK_DELEGATION_PENDING:")
    resolved = run("tasks", "resolve", task_id, "--var", "ok=true")
    assert resolved.stdout == f"resolved task {task_id} (review): assignee admin, owner admin\n"
    assert json.loads(run("tasks", "draft", task_id, "--var", "ok=false", "--json").stdout)["draft"] == {"ok": False}
    assert run("tasks", "unclaim", task_id).stdout == f"unclaimed task {task_id} (review): assignee -, owner admin\n"
    assert run("tasks", "assign", task_id, "bob").stdout.startswith(f"assigned task {task_id} (review): assignee bob")
    unknown = run("tasks", "assign", task_id, "nobody")
    assert unknown.exit_code == 1 and unknown.stderr.startswith("error USER_NOT_FOUND:")
    assert run("tasks", "assign", task_id).exit_code == 2  # a user or --none
    assert run("tasks", "assign", task_id, "--none").stdout.startswith(f"assigned task {task_id} (review): assignee -")
    assert run("tasks", "complete", task_id, "--var", "ok=true").stdout == f"completed task {task_id} (review)\n"
    assert legato.task(task_id)["status"] == "completed"


def test_comment_attach_show_and_download(run: Run, legato: Legato, tmp_path: Path) -> None:
    task_id = _task(legato)
    assert run("tasks", "comment", task_id, "Looks fine").stdout.startswith("comment ")
    report = tmp_path / "report.csv"
    report.write_bytes(b"amount,ok\n120,true\n")
    attached = run("tasks", "attach", task_id, str(report))
    assert attached.exit_code == 0, attached.output
    assert attached.stdout.startswith("attached report.csv (19 bytes, text/csv) to task")
    shown = run("tasks", "show", task_id).stdout
    assert "candidates  audit" in shown and "comment " in shown and "Looks fine" in shown
    assert "attachment 1: report.csv (19 bytes, text/csv)" in shown
    target = tmp_path / "back.csv"
    assert run("tasks", "download", task_id, "1", "-o", str(target)).stdout == f"wrote 19 bytes to {target}\n"
    assert target.read_bytes() == report.read_bytes()
    as_json = json.loads(run("tasks", "show", task_id, "--json").stdout)
    assert [a["name"] for a in as_json["attachments"]] == ["report.csv"]
    missing = run("tasks", "download", task_id, "7", "-o", str(target))
    assert missing.exit_code == 1 and missing.stderr.startswith("error ATTACHMENT_NOT_FOUND:")


def test_the_inbox_lists(run: Run, legato: Legato) -> None:
    task_id = _task(legato)
    other = str(legato.task_for(legato.start("review").instance_id)["id"])
    run("tasks", "claim", task_id)
    mine = json.loads(run("tasks", "--mine", "--json").stdout)
    assert [t["id"] for t in mine] == [task_id]
    offered = json.loads(run("tasks", "--offered", "--json").stdout)
    assert offered == []  # admin is in no group named audit
    assert [t["id"] for t in json.loads(run("tasks", "--due-within", "P2D", "--sort", "due", "--json").stdout)] == [
        task_id,
        other,
    ]
    assert json.loads(run("tasks", "--overdue", "--json").stdout) == []
    bad = run("tasks", "--due-within", "soon")
    assert bad.exit_code == 1 and bad.stderr.startswith("error INVALID_FILTER:")


def test_update_moves_the_due_date(run: Run, legato: Legato) -> None:
    task_id = _task(legato)
    run("tasks", "claim", task_id)
    moved = run("tasks", "update", task_id, "--due", "2030-03-01T12:00:00Z", "--priority", "80")
    assert moved.stdout == f"updated task {task_id} (review): due 2030-03-01 12:00:00, priority 80\n", moved.output
    assert json.loads(run("tasks", "update", task_id, "--due", "none", "--json").stdout)["due_at"] is None
    bad = run("tasks", "update", task_id, "--due", "tomorrow-ish")
    assert bad.exit_code == 1 and bad.stderr.startswith("error TASK_DATE_INVALID:")
    assert run("tasks", "update", task_id).exit_code == 2
