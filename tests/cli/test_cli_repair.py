"""`legato retry` and `legato cancel` in bulk: dry run, progress, a line per row skipped, --all."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import Run

from legato.runtime.app import Legato
from support import Switch, eventually


def _failing_at_ship(legato: Legato, order_ids: list[str]) -> list[str]:
    """Instances of the order model held by an incident at `ship` (the carrier is down)."""
    ids = []
    for order_id in order_ids:
        started = legato.start("order", {"amount": 5, "order_id": order_id})
        task = eventually(lambda i=started.instance_id: legato.tasks(instance_id=i))
        legato.complete_task(task[0]["id"], {"approved": True})
        eventually(lambda i=started.instance_id: legato.instance(i)["waiting_at"] == ["delivered"])
        legato.send_message("order.delivered", order_id)
        ids.append(started.instance_id)
    eventually(lambda: len(legato.incidents()) == len(order_ids))
    return ids


def test_bulk_retry_dry_run_then_for_real(run: Run, deployed: Path, legato: Legato, switch: Switch) -> None:
    switch.failing = True
    ids = _failing_at_ship(legato, ["A-1", "A-2", "A-3"])
    dry = run("retry", "--process", "order", "--element", "ship", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0] == "3 incidents match; nothing changed (dry run)"
    assert lines[1].startswith("first: ")
    assert len(legato.incidents()) == 3

    switch.failing = False
    done = run("retry", "--process", "order", "--element", "ship", "--batch", "2")
    assert done.exit_code == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "retried 3 incidents, 0 skipped, 0 failed"
    for instance_id in ids:
        assert legato.wait(instance_id)["status"] == "completed"
    nothing = run("retry", "--process", "order", "--element", "ship")
    assert nothing.stdout == "no incidents match: nothing to retry\n"


def test_bulk_retry_needs_a_filter_or_all(run: Run, deployed: Path, legato: Legato, switch: Switch) -> None:
    refused = run("retry")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error INVALID_FILTER: name at least one filter")
    switch.failing = True
    _failing_at_ship(legato, ["B-1"])
    switch.failing = False
    everything = run("retry", "--all", "--json")
    [answer] = json.loads(everything.stdout)
    assert (answer["done"], answer["items"][0]["result"]) == (1, "done")
    mixed = run("retry", "1", "--process", "order")
    assert mixed.exit_code == 1 and "not both" in mixed.stderr


def test_bulk_cancel_by_waiting_element(run: Run, deployed: Path, legato: Legato) -> None:
    waiting = [legato.start("order", {"amount": 5, "order_id": f"C-{n}"}).instance_id for n in range(3)]
    for instance_id in waiting:
        eventually(lambda i=instance_id: legato.instance(i)["waiting_at"] == ["approve"])
    dry = run("cancel", "--process", "order", "--waiting-at", "approve", "--dry-run", "--json")
    preview = json.loads(dry.stdout)
    assert preview["total"] == 3 and sorted(preview["ids"]) == sorted(waiting)
    done = run("cancel", "--process", "order", "--waiting-at", "approve", "--reason", "test orders")
    assert done.exit_code == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "cancelled 3 instances, 0 skipped, 0 failed"
    assert {legato.instance(i)["status"] for i in waiting} == {"cancelled"}
    again = run("cancel", "--process", "order", "--waiting-at", "approve")
    assert again.stdout == "no instances match: nothing to cancel\n"


def test_modify_moves_a_token_and_a_bad_move_names_the_element(run: Run, deployed: Path, legato: Legato) -> None:
    instance_id = legato.start("order", {"amount": 5, "order_id": "M-1"}).instance_id
    eventually(lambda: legato.instance(instance_id)["waiting_at"] == ["approve"])
    moved = run("modify", instance_id, "--cancel", "approve", "--start-before", "delivered", "--reason", "by phone")
    assert moved.exit_code == 0, moved.stderr
    assert moved.stdout == (
        f"instance {instance_id}: cancelled at approve; started before delivered; now waiting at delivered\n"
    )
    wrong = run("modify", instance_id, "--cancel", "delivered", "--start-before", "nowhere")
    assert wrong.exit_code == 1
    assert wrong.stderr.startswith("error MODIFICATION_INVALID: 'nowhere': process 'order' has no such element")
    assert legato.instance(instance_id)["waiting_at"] == ["delivered"]
