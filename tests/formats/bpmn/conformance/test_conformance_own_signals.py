"""A signal an instance throws reaches that instance's own catches (item 13 of #6).

BPMN 2.0.2, 10.5.5: a signal is a broadcast, to every catch of it; the thrower's own catch
events and signal event subprocesses are among them, also when the throwing path is the
instance's last. Run straight and reloaded on the pure engine, and through a store, where
the instance must not get its own signal a second time.
"""

from __future__ import annotations

from conformance_helpers import FILES, Start, definition, path

from legato import Legato


def test_a_thrown_signal_reaches_the_same_instances_catch_and_event_subprocess(start: Start) -> None:
    run = start(definition("signal_own_catch"))
    assert run.waiting_at() == ["countShelf", "recountAsked", "waitForRecount"]
    run.complete_task("countShelf")
    assert run.waiting_at() == ["noteRecount", "recount", "recountAsked"]  # the listener stays armed
    assert path(run).count("askRecount") == 1
    run.complete_task("recount")
    run.complete_task("noteRecount")
    assert run.status == "completed"


def test_a_signal_end_event_on_the_last_path_still_starts_its_own_event_subprocess(start: Start) -> None:
    run = start(definition("signal_end_own_subprocess"))
    run.complete_task("Activity_count_till")
    assert run.status == "active" and run.waiting_at() == ["Activity_hand_keys"]
    run.complete_task("Activity_hand_keys")
    assert run.status == "completed" and path(run)[-2:] == ["Event_handed_over", "Activity_hand_over"]


def test_through_a_store_the_instance_gets_its_own_signal_once(app: Legato) -> None:
    app.deploy(FILES / "signal_own_catch.bpmn")
    instance_id = app.start("shelfAudit").instance_id
    (count,) = app.tasks(instance_id=instance_id)
    app.complete_task(count["id"])
    open_tasks = sorted(task["element"] for task in app.tasks(instance_id=instance_id))
    assert open_tasks == ["noteRecount", "recount"]  # not two notes: no second delivery
    history = app.instance(instance_id)["history"]
    assert sum(1 for h in history if h["type"] == "event_subprocess_started") == 1


def test_through_a_store_a_signal_end_event_starts_the_hand_over(app: Legato) -> None:
    app.deploy(FILES / "signal_end_own_subprocess.bpmn")
    instance_id = app.start("shift_close").instance_id
    (till,) = app.tasks(instance_id=instance_id)
    app.complete_task(till["id"])
    assert app.instance(instance_id)["status"] == "active"
    assert [task["element"] for task in app.tasks(instance_id=instance_id)] == ["Activity_hand_keys"]
