"""Each client command against the real API: what it prints, and how it fails."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import httpx
from cli_helpers import INVALID_YAML, Run

from legato.runtime.app import Legato
from support import Switch, eventually


def _start(run: Run, *args: str) -> str:
    result = run("start", "order", "--json", *args)
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["instance_id"])


def _waiting(legato: Legato, instance_id: str, element: str) -> bool:
    return element in legato.instance(instance_id)["waiting_at"]


# -- deploy and definitions ------------------------------------------------------------------


def test_deploy_reports_new_and_unchanged_versions(run: Run, order_file: Path) -> None:
    first = run("deploy", str(order_file))
    assert first.exit_code == 0
    assert first.stdout == f"deployed  order version 1 (definition 1) from {order_file}\n"
    again = run("deploy", str(order_file))
    assert again.stdout == f"unchanged order version 1 (definition 1) from {order_file}\n"
    as_json = json.loads(run("deploy", "--json", str(order_file)).stdout)
    assert as_json == [{"file": str(order_file), **as_json[0]}]
    assert as_json[0]["created"] is False


def test_deploy_of_several_files_reports_each_and_fails_for_a_bad_one(
    run: Run, order_file: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text(INVALID_YAML)
    result = run("deploy", str(bad), str(order_file))
    assert result.exit_code == 1
    assert f"deployed  order version 1 (definition 1) from {order_file}" in result.stdout
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"error MODEL_INVALID: {bad}: the model is invalid")
    assert lines[1] == "  - 'b' (line 5): next: no step has the id 'nowhere'"


def test_deploy_of_a_missing_file_is_a_usage_error(run: Run, tmp_path: Path) -> None:
    result = run("deploy", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_definitions_lists_the_catalogue(run: Run, deployed: Path) -> None:
    table = run("definitions")
    assert table.exit_code == 0
    header, row = table.stdout.splitlines()[:2]
    assert header.split() == ["KEY", "VERSION", "NAME", "FORMAT", "DEPLOYED", "ID"]
    assert row.split()[:4] == ["order", "1", "Order", "yaml"]
    items = json.loads(run("definitions", "--json").stdout)
    assert [(d["key"], d["version"]) for d in items] == [("order", 1)]


# -- start, instances, show, cancel ----------------------------------------------------------


def test_start_parses_variables_as_json_or_text(run: Run, deployed: Path, legato: Legato) -> None:
    result = run(
        "start",
        "order",
        "--vars-json",
        '{"amount": 1, "note": "from json", "region": "eu"}',
        "--var",
        "amount=10",
        "--var",
        "order_id=A-1",
        "--var",
        'tags=["a", "b"]',
        "--var",
        "rush=true",
        "--var",
        'zip="01234"',
        "--var",
        "empty=",
        "--business-key",
        "A-1",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("started order v1: instance ")
    assert result.stdout.rstrip().endswith("(active)")
    instance_id = result.stdout.split("instance ")[1].split()[0]
    instance = legato.instance(instance_id)
    assert instance["business_key"] == "A-1"
    variables = instance["variables"]
    assert {k: variables[k] for k in ("amount", "order_id", "tags", "rush", "zip", "empty", "note")} == {
        "amount": 10,
        "order_id": "A-1",
        "tags": ["a", "b"],
        "rush": True,
        "zip": "01234",
        "empty": "",
        "note": "from json",
    }


def test_start_with_an_idempotency_key_starts_once(run: Run, deployed: Path) -> None:
    first = run("start", "order", "--var", "amount=5", "--idempotency-key", "k-1")
    again = run("start", "order", "--var", "amount=5", "--idempotency-key", "k-1")
    instance_id = first.stdout.split("instance ")[1].split()[0]
    assert again.exit_code == 0
    assert again.stdout.startswith(f"already started (same idempotency key) order v1: instance {instance_id}")
    conflict = run("start", "order", "--var", "amount=6", "--idempotency-key", "k-1")
    assert conflict.exit_code == 1
    assert conflict.stderr.startswith("error IDEMPOTENCY_CONFLICT: idempotency key 'k-1'")


def test_start_many(run: Run, deployed: Path, legato: Legato) -> None:
    result = run("start", "order", "--count", "3", "--var", "amount=5", "--idempotency-key", "batch")
    assert result.exit_code == 0, result.output
    assert result.stdout == "started 3 instances of order (3 active)\n"
    assert len(legato.instances()) == 3
    again = json.loads(
        run("start", "order", "--count", "3", "--var", "amount=5", "--idempotency-key", "batch", "--json").stdout
    )
    assert [s["created"] for s in again] == [False, False, False]
    assert len(legato.instances()) == 3


def test_start_refusals(run: Run, deployed: Path, legato: Legato) -> None:
    unknown = run("start", "nope")
    assert unknown.exit_code == 1
    assert unknown.stderr == "error DEFINITION_NOT_FOUND: no process 'nope' is deployed\n"
    for args, message in (
        (["--var", "novalue"], "'novalue' is not NAME=VALUE"),
        (["--vars-json", "[1]"], "must be a JSON object"),
        (["--vars-json", "{oops"], "not valid JSON"),
        (["--count", "0"], "--count"),
    ):
        result = run("start", "order", *args)
        assert result.exit_code == 2, args
        assert message in result.stderr, (args, result.stderr)
    assert legato.instances() == []


def test_instances_lists_and_filters(run: Run, deployed: Path, legato: Legato) -> None:
    active = _start(run, "--var", "amount=5", "--business-key", "A-1")
    denied = _start(run, "--var", "amount=5000")
    legato.wait(denied)
    table = run("instances").stdout.splitlines()
    assert table[0].split() == ["ID", "PROCESS", "STATUS", "BUSINESS", "KEY", "WAITING", "AT", "STARTED"]
    assert table[1].split()[:4] == [denied, "order", "v1", "completed"]
    assert table[2].startswith(active)
    listed = json.loads(run("instances", "--status", "active", "--json").stdout)
    assert [i["id"] for i in listed] == [active]
    assert json.loads(run("instances", "--business-key", "A-1", "--json").stdout)[0]["id"] == active
    assert run("instances", "--process", "other").stdout == "no instances\n"
    assert run("instances", "--status", "sleeping").exit_code == 2


def test_show_prints_the_instance_and_its_timeline(run: Run, deployed: Path, legato: Legato) -> None:
    instance_id = _start(run, "--var", "amount=5", "--var", "order_id=A-1")
    eventually(lambda: _waiting(legato, instance_id, "approve"))
    result = run("show", instance_id)
    assert result.exit_code == 0
    out = result.stdout
    assert f"instance      {instance_id}" in out
    assert "status        active" in out
    assert "waiting at    approve" in out
    assert '"order_id": "A-1"' in out
    assert "open tasks" in out and f"{instance_id}:" in out
    timeline = out[out.index("history") :].splitlines()[1:]
    assert timeline[0].split() == ["TIME", "EVENT", "ELEMENT", "ACTOR", "VARIABLES", "CHANGED"]
    started = timeline[1].split()
    assert started[1:] == ["instance_started", "admin", "amount=5,", 'order_id="A-1"']
    completed = next(line for line in timeline if "element_completed" in line).split()
    assert completed[2] == "check" and completed[3].startswith("worker:") and completed[4] == "credit_ok=true"
    assert json.loads(run("show", "--json", instance_id).stdout)["id"] == instance_id

    missing = run("show", "nope")
    assert missing.exit_code == 1
    assert missing.stderr == "error INSTANCE_NOT_FOUND: no instance 'nope'\n"


def test_show_escapes_markup_in_data(run: Run, deployed: Path) -> None:
    instance_id = _start(run, "--var", "note=[bold]hi[/bold]")
    assert "[bold]hi[/bold]" in run("show", instance_id).stdout


def test_cancel(run: Run, deployed: Path, legato: Legato) -> None:
    instance_id = _start(run, "--var", "amount=5")
    eventually(lambda: _waiting(legato, instance_id, "approve"))
    result = run("cancel", instance_id, "--reason", "customer called")
    assert result.stdout == f"cancelled instance {instance_id} (order)\n"
    again = run("cancel", instance_id)
    assert again.exit_code == 1
    assert again.stderr.startswith("error INSTANCE_NOT_ACTIVE:")


# -- tasks, complete, send, incidents, retry -------------------------------------------------


def test_tasks_complete_send_incidents_retry(run: Run, deployed: Path, legato: Legato, switch: Switch) -> None:
    switch.failing = True
    instance_id = _start(run, "--var", "amount=5", "--var", "order_id=A-1")
    eventually(lambda: _waiting(legato, instance_id, "approve"))

    tasks = run("tasks")
    header, row = tasks.stdout.splitlines()[:2]
    assert header.split() == ["ID", "TASK", "STATUS", "ASSIGNEE", "GROUPS", "DUE", "INSTANCE", "CREATED"]
    task_id = row.split()[0]
    assert row.split()[1:9] == ["Approve", "order", "(approve)", "open", "-", "sales", "-", instance_id]
    assert [t["id"] for t in json.loads(run("tasks", "--instance", instance_id, "--json").stdout)] == [task_id]

    done = run("complete", task_id, "--var", "approved=true")
    assert done.stdout == f"completed task {task_id} (approve)\n"
    again = run("complete", task_id)
    assert again.exit_code == 1
    assert again.stderr == f"error TASK_NOT_ACTIVE: user task '{task_id}' is already completed\n"
    assert run("tasks").stdout == "no open tasks\n"
    eventually(lambda: _waiting(legato, instance_id, "delivered"))

    wrong = run("send", "order.delivered", "--key", "B-2")
    assert wrong.exit_code == 1
    assert wrong.stderr.startswith("error MESSAGE_NOT_CORRELATED: message 'order.delivered' with correlation key")
    sent = run("send", "order.delivered", "--key", "A-1", "--var", "signed_by=Ada")
    assert sent.stdout == f"message order.delivered delivered to instance {instance_id}\n"

    incidents = eventually(lambda: json.loads(run("incidents", "--json").stdout))
    assert incidents[0]["element"] == "ship"
    table = run("incidents").stdout.splitlines()
    assert table[1].split()[:5] == ["1", "ship", "RuntimeError:", "the", "carrier"]

    switch.failing = False
    retried = run("retry", "1")
    assert retried.stdout == f"retrying incident 1: instance {instance_id} runs 'ship' again\n"
    assert legato.wait(instance_id)["status"] == "completed"
    assert run("incidents").stdout == "no open incidents\n"
    twice = run("retry", "1")
    assert twice.exit_code == 1
    assert twice.stderr.startswith("error INCIDENT_NOT_OPEN:")


def test_variables_shown_set_and_removed_and_a_retry_carries_the_fix(
    run: Run, deployed: Path, legato: Legato, switch: Switch
) -> None:
    switch.failing = True
    instance_id = _start(run, "--var", "amount=5", "--var", "order_id=A-1", "--var", "debug=true")
    eventually(lambda: _waiting(legato, instance_id, "approve"))
    shown = 'amount = 5\ncredit_ok = true\ndebug = true\norder_id = "A-1"\n'
    assert run("variables", instance_id).stdout == shown
    changed = run("variables", instance_id, "--var", "amount=7", "--remove", "debug")
    lines = [f"instance {instance_id}: 1 set, 1 removed", "amount = 7", "credit_ok = true", 'order_id = "A-1"']
    assert changed.stdout.splitlines() == lines
    assert json.loads(run("variables", instance_id, "--json").stdout)["amount"] == 7
    both = run("variables", instance_id, "--var", "amount=8", "--remove", "amount")
    assert both.exit_code == 1 and both.stderr.startswith("error VARIABLES_INVALID:")
    missing = run("variables", "nope", "--var", "a=1")
    assert missing.exit_code == 1 and missing.stderr.startswith("error INSTANCE_NOT_FOUND:")

    run("complete", legato.task_for(instance_id)["id"])
    eventually(lambda: _waiting(legato, instance_id, "delivered"))
    run("send", "order.delivered", "--key", "A-1")
    eventually(lambda: json.loads(run("incidents", "--json").stdout))
    switch.failing = False
    assert run("retry", "1", "--var", "carrier=backup").exit_code == 0
    assert legato.wait(instance_id)["status"] == "completed"
    assert legato.instance(instance_id)["variables"]["carrier"] == "backup"


# -- talking to the server -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_no_server_is_exit_2_naming_the_url(run: Run) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    result = run("instances", env={"LEGATO_URL": url}, http=None)
    assert result.exit_code == 2
    assert f"error SERVER_UNREACHABLE: cannot reach the Legato server at {url}" in result.stderr
    assert "`legato server`" in result.stderr
    other = f"http://127.0.0.1:{_free_port()}"
    by_option = run("--url", other, "tasks", env={"LEGATO_URL": url}, http=None)
    assert by_option.exit_code == 2 and other in by_option.stderr


def test_bad_settings_are_exit_2_naming_the_variable(run: Run) -> None:
    result = run("instances", env={"LEGATO_URL": "ftp://example.com"}, http=None)
    assert result.exit_code == 2
    assert (
        result.stderr == "error INVALID_INPUT: LEGATO_URL must be an http:// or https:// URL, not 'ftp://example.com'\n"
    )


def test_an_error_without_a_problem_document_is_still_reported(run: Run) -> None:
    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html><body>Bad   gateway</body></html>")

    http: Any = httpx.Client(transport=httpx.MockTransport(gateway), base_url="http://proxy")
    result = run("instances", http=http)
    assert result.exit_code == 1
    assert result.stderr == "error HTTP_502: <html><body>Bad gateway</body></html>\n"


def test_signal_says_how_many_it_reached(run: Run) -> None:
    result = run("signal", "nobody.listens", "--var", "n=1")
    assert result.exit_code == 0
    assert result.stdout == "signal nobody.listens reached 0 waiting instance(s) and started 0\n"
    assert json.loads(run("signal", "again", "--json").stdout) == {"signal": "again", "instances": 0, "started": 0}


def test_conditions_says_what_it_started(run: Run) -> None:
    result = run("conditions", "--var", "amount=5")
    assert result.exit_code == 0
    assert result.stdout == "no conditional start event holds: nothing started\n"
