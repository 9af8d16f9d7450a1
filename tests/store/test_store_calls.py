"""Call activities in the store, on SQLite and PostgreSQL: a child starts, ends, fails and
is cancelled in the same transaction as the step of its parent that caused it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from legato.engine.commands import CompleteJob, FireTimer
from legato.errors import EvaluationError
from legato.formats.builder import Process
from legato.model.process import ProcessDefinition
from legato.store import CommandItem, Database, StartRequest, Store, migrate
from legato.store.calls import MAX_CALL_DEPTH
from legato.store.commands import Executor

NOW = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    yield s
    s.close()


def deploy(store: Store, model: ProcessDefinition) -> int:
    return store.definitions.deploy(model, source="{}", source_format="python", now=NOW).definition.version


def start(store: Store, process: str, variables: dict[str, Any] | None = None) -> str:
    started, _ = store.executor.start([StartRequest(process=process, variables=variables or {})], NOW)
    return started[0].instance_id


def instance(store: Store, instance_id: str) -> dict[str, Any]:
    return store.queries.instance(instance_id)


def complete_job(store: Store, instance_id: str, variables: dict[str, Any] | None = None) -> None:
    [job] = [
        j
        for j in store.jobs.claim(worker="w", task_types=["charge", "work"], limit=100, now=NOW, lock_seconds=30)
        if j.instance_id == instance_id
    ]
    command = CompleteJob(wait=job.wait or 0, variables=variables or {})
    outcomes, _ = store.executor.apply(
        [CommandItem(instance_id=instance_id, command=command, job=job.id, worker="w")], NOW
    )
    assert outcomes[0].ok, outcomes[0].error


def caller(**call: Any) -> ProcessDefinition:
    p = Process("order")
    pay = p.start("start").then(p.call("pay", "payment", **call))
    pay.on_error("DECLINED", id="declined").then(p.end("rejected"))
    pay.on_timer(duration="PT1H", id="too_slow").then(p.end("timed_out"))
    pay.then(p.end("paid"))
    return p.build()


def payment(*, error: bool = False) -> ProcessDefinition:
    p = Process("payment")
    charge = p.start("start").then(p.service("charge", "charge"))
    charge.then(p.end("declined", error="DECLINED", error_message="card expired") if error else p.end("end"))
    return p.build()


def calling(process: str, version: int | None = None) -> ProcessDefinition:
    p = Process("order")
    p.start("start").then(p.call("pay", process, version=version)).then(p.end("end"))
    return p.build()


def only_child(store: Store, parent: str) -> str:
    [child] = instance(store, parent)["children"]
    return str(child)


def test_a_child_starts_with_its_parent_and_its_end_completes_the_parent(store: Store) -> None:
    deploy(store, caller(outputs={"receipt": "receipt"}))
    deploy(store, payment())
    parent = start(store, "order", {"amount": 12})
    child = only_child(store, parent)
    detail = instance(store, child)
    assert (detail["parent_id"], detail["process"], detail["variables"]) == (parent, "payment", {"amount": 12})
    assert detail["history"][0]["data"]["called_by"]["instance_id"] == parent
    assert instance(store, parent)["waiting_at"] == ["pay"]
    complete_job(store, child, {"receipt": "R-1", "noise": True})
    assert instance(store, child)["status"] == "completed"
    done = instance(store, parent)
    assert (done["status"], done["variables"]) == ("completed", {"amount": 12, "receipt": "R-1"})
    assert done["parent_id"] is None
    [completed] = [h for h in done["history"] if h["type"] == "element_completed" and h["element"] == "pay"]
    assert completed["actor"] == f"instance:{child}"
    with store.database.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM jobs")).scalar_one() == 0  # the boundary timer went too


def test_a_child_that_ends_at_once_completes_its_parent_in_the_same_start(store: Store) -> None:
    p = Process("instant")
    p.start("start").then(p.script("set", "answer = 42")).then(p.end("end"))
    deploy(store, p.build())
    deploy(store, calling("instant"))
    parent = start(store, "order")
    assert instance(store, parent)["status"] == "completed"
    assert instance(store, parent)["variables"] == {"answer": 42}
    assert instance(store, only_child(store, parent))["status"] == "completed"


def test_a_pinned_version_is_called_and_none_means_the_latest_at_call_time(store: Store) -> None:
    deploy(store, payment())
    two = Process("payment")
    two.start("start").then(two.service("charge", "charge")).then(two.service("work", "work")).then(two.end("end"))
    deploy(store, two.build())
    deploy(store, calling("payment", version=1))
    assert instance(store, only_child(store, start(store, "order")))["version"] == 1
    deploy(store, calling("payment"))
    assert instance(store, only_child(store, start(store, "order")))["version"] == 2


def test_a_missing_process_is_an_incident_on_the_call_and_the_step_commits(store: Store) -> None:
    deploy(store, caller())
    parent = start(store, "order", {"n": 1})
    detail = instance(store, parent)
    assert detail["status"] == "active" and detail["children"] == []
    [incident] = detail["incidents"]
    assert (incident["element"], incident["error_type"]) == ("pay", "DefinitionNotFound")
    assert "'payment'" in incident["message"]
    deploy(store, payment())
    store.retry_incident(incident["id"], actor="ann", now=NOW)
    child = only_child(store, parent)
    assert instance(store, child)["variables"] == {"n": 1}
    assert instance(store, parent)["incidents"] == []
    complete_job(store, child)
    assert instance(store, parent)["status"] == "completed"


def test_an_error_that_ends_the_child_is_caught_on_the_call_activity(store: Store) -> None:
    deploy(store, caller())
    deploy(store, payment(error=True))
    parent = start(store, "order")
    child = only_child(store, parent)
    complete_job(store, child)
    ended = instance(store, child)
    assert ended["status"] == "terminated" and ended["incidents"] == []
    [terminated] = [h for h in ended["history"] if h["type"] == "instance_terminated"]
    assert terminated["data"] == {"error": "DECLINED", "message": "card expired"}
    done = instance(store, parent)
    assert done["status"] == "completed"
    assert [h["element"] for h in done["history"] if h["type"] == "element_passed"][-1] == "rejected"


def test_an_error_nothing_catches_holds_the_call_activity(store: Store) -> None:
    p = Process("order")
    p.start("start").then(p.call("pay", "payment")).then(p.end("end"))
    deploy(store, p.build())
    deploy(store, payment(error=True))
    parent = start(store, "order")
    complete_job(store, only_child(store, parent))
    [incident] = instance(store, parent)["incidents"]
    assert (incident["element"], incident["error_type"]) == ("pay", "UnhandledBpmnError")


def test_a_boundary_timer_cancels_the_child(store: Store) -> None:
    deploy(store, caller())
    deploy(store, payment())
    parent = start(store, "order")
    child = only_child(store, parent)
    later = datetime(2031, 1, 1, tzinfo=UTC)
    [timer] = store.jobs.claim(worker="w", task_types=[], limit=10, now=later, lock_seconds=30)
    store.command(parent, FireTimer(wait=timer.wait or 0), NOW)
    assert instance(store, parent)["status"] == "completed"
    cancelled = instance(store, child)
    assert cancelled["status"] == "cancelled"
    assert cancelled["history"][-1]["actor"] == f"instance:{parent}"
    with store.database.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM jobs")).scalar_one() == 0  # the child's job is gone


def three_levels(store: Store) -> tuple[str, str, str]:
    deploy(store, calling("middle"))
    m = Process("middle")
    m.start("start").then(m.call("leaf", "payment")).then(m.end("end"))
    deploy(store, m.build())
    deploy(store, payment())
    root = start(store, "order")
    middle = only_child(store, root)
    return root, middle, only_child(store, middle)


def test_cancelling_a_parent_cancels_its_children_and_theirs(store: Store) -> None:
    root, middle, leaf = three_levels(store)
    store.cancel(root, actor="ann", now=NOW)
    assert [instance(store, i)["status"] for i in (root, middle, leaf)] == ["cancelled"] * 3
    assert instance(store, root)["incidents"] == []  # a cascade does not answer back


def test_a_grandchild_completing_completes_the_whole_chain_in_one_transaction(store: Store) -> None:
    root, middle, leaf = three_levels(store)
    complete_job(store, leaf)
    assert [instance(store, i)["status"] for i in (root, middle, leaf)] == ["completed"] * 3


def test_a_child_cancelled_on_its_own_holds_its_caller_until_a_retry(store: Store) -> None:
    deploy(store, caller())
    deploy(store, payment())
    parent = start(store, "order")
    first = only_child(store, parent)
    store.cancel(first, actor="ann", now=NOW)
    [incident] = instance(store, parent)["incidents"]
    assert incident["error_type"] == "CalledInstanceCancelled" and first in incident["message"]
    store.retry_incident(incident["id"], actor="ann", now=NOW)
    children = instance(store, parent)["children"]
    [second] = [child for child in children if child != first]
    assert len(children) == 2 and instance(store, second)["status"] == "active"
    complete_job(store, second)
    assert instance(store, parent)["status"] == "completed"


def test_a_process_calling_itself_stops_at_the_depth_limit_with_an_incident(store: Store) -> None:
    p = Process("again")
    p.start("start").then(p.call("again_call", "again")).then(p.end("end"))
    deploy(store, p.build())
    root = start(store, "again")
    with store.database.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM instances")).scalar_one() == MAX_CALL_DEPTH + 1
    deepest = root
    while instance(store, deepest)["children"]:
        deepest = only_child(store, deepest)
    [incident] = instance(store, deepest)["incidents"]
    assert incident["error_type"] == "CallDepthExceeded"
    assert [i["instance_id"] for i in store.queries.incidents()] == [deepest]


def test_a_loop_of_calls_that_end_at_once_rolls_back_instead_of_spinning(store: Store) -> None:
    p = Process("instant")
    p.start("start").then(p.end("end"))
    deploy(store, p.build())
    loop = Process("order")
    call = loop.start("start").then(loop.call("pay", "instant"))
    call.then(loop.exclusive("again")).then(call, when="true")
    deploy(store, loop.build())
    with pytest.raises(EvaluationError, match="kept calling"):
        start(store, "order")
    with store.database.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM instances")).scalar_one() == 0


def test_a_failing_child_start_rolls_back_the_parents_step(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The step that enters the call activity and the child's start are one transaction."""
    p = Process("order")
    p.start("start").then(p.service("work", "work")).then(p.call("pay", "payment")).then(p.end("end"))
    deploy(store, p.build())
    deploy(store, payment())
    parent = start(store, "order")
    before = instance(store, parent)
    original = Executor.start_within

    def crash(self: Executor, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("caller") is not None:
            raise RuntimeError("the database went away")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Executor, "start_within", crash)
    with pytest.raises(RuntimeError, match="went away"):
        complete_job(store, parent, {"done": True})
    after = instance(store, parent)
    assert (after["revision"], after["waiting_at"], after["history"]) == (
        before["revision"],
        ["work"],
        before["history"],
    )
    with store.database.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM instances")).scalar_one() == 1
    monkeypatch.undo()
    with store.database.write() as conn:  # the lock of the failed attempt: let it go
        conn.execute(text("UPDATE jobs SET locked_by = NULL, lock_expires_at = NULL"))
    complete_job(store, parent, {"done": True})
    assert instance(store, parent)["waiting_at"] == ["pay"]
    assert len(instance(store, parent)["children"]) == 1


def test_migration_0003_adds_the_parent_link_to_existing_instances(database_url: str) -> None:
    database = Database(database_url)
    migrate.upgrade(database, "0002")
    with database.write() as conn:
        conn.execute(
            text(
                "INSERT INTO definitions (key, version, checksum, source_format, source, model, deployed_at) "
                "VALUES ('p', 1, 'x', 'python', '{}', '{}', 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO instances (id, definition_id, process_key, status, state, variables, version, "
                "created_at, updated_at) VALUES ('i', 1, 'p', 'active', '{}', '{}', 1, 0, 0)"
            )
        )
    migrate.upgrade(database)
    assert migrate.current(database) == migrate.head()
    with database.read() as conn:
        row = conn.execute(text("SELECT id, parent_id, parent_wait FROM instances")).one()
    assert tuple(row) == ("i", None, None)
    database.dispose()


def _escalating_child() -> ProcessDefinition:
    from legato.model.elements import (
        EndEvent,
        EscalationDefinition,
        IntermediateThrowEvent,
        SequenceFlow,
        ServiceTask,
        StartEvent,
    )

    elements = [
        StartEvent(id="start"),
        IntermediateThrowEvent(id="late", event=EscalationDefinition(code="LATE")),
        ServiceTask(id="charge", task_type="charge"),
        EndEvent(id="end"),
    ]
    flows = [("f1", "start", "late"), ("f2", "late", "charge"), ("f3", "charge", "end")]
    return ProcessDefinition(
        id="payment",
        elements={e.id: e for e in elements},
        flows={f: SequenceFlow(id=f, source=a, target=b) for f, a, b in flows},
    )


def _caller_catching_escalation(interrupting: bool) -> ProcessDefinition:
    from legato.model.elements import (
        BoundaryEvent,
        CallActivity,
        EndEvent,
        EscalationDefinition,
        SequenceFlow,
        StartEvent,
        UserTask,
    )

    elements = [
        StartEvent(id="start"),
        CallActivity(id="pay", process="payment"),
        BoundaryEvent(id="escalated", attached_to="pay", cancel_activity=interrupting, event=EscalationDefinition()),
        UserTask(id="call_customer"),
        EndEvent(id="end"),
        EndEvent(id="handled"),
    ]
    flows = [
        ("f1", "start", "pay"),
        ("f2", "pay", "end"),
        ("f3", "escalated", "call_customer"),
        ("f4", "call_customer", "handled"),
    ]
    return ProcessDefinition(
        id="order",
        elements={e.id: e for e in elements},
        flows={f: SequenceFlow(id=f, source=a, target=b) for f, a, b in flows},
    )


def test_an_escalation_from_the_child_is_caught_on_the_call_activity_and_the_child_goes_on(store: Store) -> None:
    deploy(store, _caller_catching_escalation(interrupting=False))
    deploy(store, _escalating_child())
    parent = start(store, "order")
    child = only_child(store, parent)
    assert instance(store, parent)["waiting_at"] == ["call_customer", "pay"]  # in the same transaction
    assert instance(store, child)["waiting_at"] == ["charge"]
    complete_job(store, child)
    assert instance(store, child)["status"] == "completed"
    assert instance(store, parent)["waiting_at"] == ["call_customer"]


def test_an_interrupting_escalation_catch_cancels_the_child(store: Store) -> None:
    deploy(store, _caller_catching_escalation(interrupting=True))
    deploy(store, _escalating_child())
    parent = start(store, "order")
    child = only_child(store, parent)
    assert instance(store, parent)["waiting_at"] == ["call_customer"]
    assert instance(store, child)["status"] == "cancelled"
