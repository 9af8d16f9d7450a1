"""The store on SQLite and PostgreSQL: versioning, idempotency, claims, commands, messages."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from legato.engine.commands import CompleteJob, FailJob
from legato.errors import (
    ConcurrentModification,
    DefinitionNotFound,
    IdempotencyConflict,
    IncidentNotOpen,
    InstanceNotActive,
    MessageNotCorrelated,
    TaskNotActive,
)
from legato.model.elements import (
    EndEvent,
    IntermediateCatchEvent,
    MessageDefinition,
    RetryPolicy,
    SequenceFlow,
    ServiceTask,
    StartEvent,
    TimerDefinition,
    UserTask,
)
from legato.model.process import ProcessDefinition
from legato.store import CommandItem, StartRequest, Store, migrate

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def chain(process_id: str, *middle, start=None) -> ProcessDefinition:  # type: ignore[no-untyped-def]
    elements = [start or StartEvent(id="start"), *middle, EndEvent(id="end")]
    flows = [
        SequenceFlow(id=f"f{i}", source=a.id, target=b.id) for i, (a, b) in enumerate(itertools.pairwise(elements))
    ]
    return ProcessDefinition(id=process_id, elements={e.id: e for e in elements}, flows={f.id: f for f in flows})


def service(element_id: str, **kwargs) -> ServiceTask:  # type: ignore[no-untyped-def]
    return ServiceTask(id=element_id, task_type=element_id, **kwargs)


@pytest.fixture
def store(database_url: str):  # type: ignore[no-untyped-def]
    s = Store(database_url)
    yield s
    s.close()


def deploy(store: Store, model: ProcessDefinition):  # type: ignore[no-untyped-def]
    return store.definitions.deploy(model, source="{}", source_format="python", now=NOW)


def start(store: Store, process: str, **kwargs):  # type: ignore[no-untyped-def]
    started, _ = store.executor.start([StartRequest(process=process, **kwargs)], NOW)
    return started[0]


def claim(store: Store, worker: str = "w1", now: datetime = NOW, types=("a", "b", "c")):  # type: ignore[no-untyped-def]
    return store.jobs.claim(worker=worker, task_types=list(types), limit=100, now=now, lock_seconds=30)


def count(store: Store, table: str) -> int:
    with store.database.read() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def test_migrations_are_at_head_and_rerunning_is_a_no_op(store: Store) -> None:
    assert migrate.current(store.database) == migrate.head()
    migrate.upgrade(store.database)
    assert migrate.current(store.database) == migrate.head()


def test_redeploying_unchanged_is_a_no_op_and_a_change_is_a_new_version(store: Store) -> None:
    first = deploy(store, chain("p", service("a")))
    again = deploy(store, chain("p", service("a")))
    changed = deploy(store, chain("p", service("a"), service("b")))
    assert (first.created, first.definition.version) == (True, 1)
    assert (again.created, again.definition.id) == (False, first.definition.id)
    assert (changed.created, changed.definition.version) == (True, 2)
    assert [d.version for d in store.definitions.list(all_versions=True)] == [1, 2]
    assert [d.version for d in store.definitions.list()] == [2]


def test_running_instances_stay_on_their_version(store: Store) -> None:
    deploy(store, chain("p", service("a")))
    old = start(store, "p")
    deploy(store, chain("p", service("a"), service("b")))
    new = start(store, "p")
    assert (old.version, new.version) == (1, 2)
    jobs = {job.instance_id: job for job in claim(store)}
    outcomes, _ = store.executor.apply(
        [
            CommandItem(instance_id=i, command=CompleteJob(wait=j.wait or 0), job=j.id, worker="w1")
            for i, j in jobs.items()
        ],
        NOW,
    )
    assert all(o.ok for o in outcomes)
    assert store.queries.instance(old.instance_id)["status"] == "completed"
    assert store.queries.instance(new.instance_id)["waiting_at"] == ["b"]


def test_start_of_unknown_process_fails_and_stores_nothing(store: Store) -> None:
    with pytest.raises(DefinitionNotFound, match="nope"):
        start(store, "nope")
    deploy(store, chain("p", service("a")))
    with pytest.raises(DefinitionNotFound, match="version 7"):
        start(store, "p", version=7)
    assert count(store, "instances") == 0


def test_idempotency_key_returns_the_same_instance_and_rejects_other_data(store: Store) -> None:
    deploy(store, chain("p", service("a")))
    first = start(store, "p", variables={"x": 1}, idempotency_key="order-1")
    second = start(store, "p", variables={"x": 1}, idempotency_key="order-1")
    assert (second.instance_id, second.created) == (first.instance_id, False)
    with pytest.raises(IdempotencyConflict):
        start(store, "p", variables={"x": 2}, idempotency_key="order-1")
    assert count(store, "instances") == 1


def test_claims_take_due_unlocked_jobs_of_known_types_and_expired_locks_come_free(store: Store) -> None:
    deploy(store, chain("p", service("a")))
    deploy(store, chain("q", service("zzz")))
    start(store, "p")
    start(store, "q")
    first = claim(store, "w1")
    assert [j.task_type for j in first] == ["a"]
    assert first[0].attempts == 1
    assert claim(store, "w2") == []  # locked by w1
    later = claim(store, "w2", now=NOW + timedelta(seconds=31))  # w1's lock expired
    assert [j.id for j in later] == [first[0].id]
    assert later[0].attempts == 2
    # w1 comes back late: its result is stale and changes nothing
    outcomes, _ = store.executor.apply(
        [
            CommandItem(
                instance_id=first[0].instance_id or "",
                command=CompleteJob(wait=first[0].wait or 0),
                job=first[0].id,
                worker="w1",
            )
        ],
        NOW,
    )
    assert not outcomes[0].ok and outcomes[0].error is not None
    assert outcomes[0].error.code == "STALE_COMMAND"
    assert store.queries.instance(first[0].instance_id or "")["status"] == "active"


def test_extending_a_lock_keeps_the_job(store: Store) -> None:
    deploy(store, chain("p", service("a")))
    start(store, "p")
    [job] = claim(store, "w1")
    assert store.jobs.extend(worker="w1", job_ids=[job.id], until=(NOW + timedelta(seconds=100)).timestamp()) == 1
    assert claim(store, "w2", now=NOW + timedelta(seconds=60)) == []
    assert store.jobs.extend(worker="w2", job_ids=[job.id], until=0) == 0


def test_history_is_gap_free_and_records_variables(store: Store) -> None:
    deploy(store, chain("p", service("a"), service("b")))
    started = start(store, "p", variables={"amount": 5})
    for _ in range(2):
        [job] = claim(store)
        store.executor.apply(
            [
                CommandItem(
                    instance_id=started.instance_id,
                    command=CompleteJob(wait=job.wait or 0, variables={job.element: True}),
                    job=job.id,
                    worker="w1",
                )
            ],
            NOW,
        )
    history = store.queries.history(started.instance_id)
    assert [h["seq"] for h in history] == list(range(1, len(history) + 1))
    assert history[0]["data"]["variables"] == {"amount": 5}
    completed = [h for h in history if h["type"] == "element_completed"]
    assert [(h["element"], h["data"]["variables"]) for h in completed] == [("a", {"a": True}), ("b", {"b": True})]
    assert history[-1]["type"] == "instance_completed"
    assert count(store, "jobs") == 0


def test_retries_then_incident_then_retry_by_a_person(store: Store) -> None:
    deploy(store, chain("p", service("a", retry=RetryPolicy(max_attempts=2, initial_backoff=5, jitter=0))))
    started = start(store, "p")
    [job] = claim(store)
    fail = FailJob(wait=job.wait or 0, attempt=job.attempts, error_type="IOError", message="down")
    store.executor.apply([CommandItem(instance_id=started.instance_id, command=fail, job=job.id, worker="w1")], NOW)
    assert claim(store, now=NOW + timedelta(seconds=4)) == []  # backing off
    [job] = claim(store, now=NOW + timedelta(seconds=5))
    fail = FailJob(wait=job.wait or 0, attempt=job.attempts, error_type="IOError", message="still down")
    store.executor.apply([CommandItem(instance_id=started.instance_id, command=fail, job=job.id, worker="w1")], NOW)
    [incident] = store.queries.incidents()
    assert (incident["element"], incident["message"]) == ("a", "still down")
    assert claim(store, now=NOW + timedelta(days=1)) == []  # held until a person retries
    store.retry_incident(incident["id"], actor="user:ann", now=NOW)
    assert store.queries.incidents() == []
    [job] = claim(store, now=NOW)
    assert job.attempts == 1
    with pytest.raises(IncidentNotOpen):
        store.retry_incident(incident["id"], actor="user:ann", now=NOW)


def test_message_correlates_to_the_waiting_instance_or_says_so(store: Store) -> None:
    catch = IntermediateCatchEvent(id="paid", event=MessageDefinition(message="payment", correlation_key="order"))
    deploy(store, chain("p", catch))
    started = start(store, "p", variables={"order": "A-1"})
    with pytest.raises(MessageNotCorrelated, match="A-2"):
        store.executor.correlate(message="payment", correlation_key="A-2", variables={}, now=NOW, actor=None)
    assert store.queries.instance(started.instance_id)["status"] == "active"
    result, _ = store.executor.correlate(
        message="payment", correlation_key="A-1", variables={"paid": 10}, now=NOW, actor="api"
    )
    assert result == {"correlated": "instance", "instance_id": started.instance_id}
    instance = store.queries.instance(started.instance_id)
    assert (instance["status"], instance["variables"]["paid"]) == ("completed", 10)
    assert count(store, "subscriptions") == 0


def test_message_start_event_starts_an_instance(store: Store) -> None:
    start_event = StartEvent(id="start", event=MessageDefinition(message="order.placed"))
    deploy(store, chain("p", service("a"), start=start_event))
    result, _ = store.executor.correlate(
        message="order.placed", correlation_key="K-9", variables={"n": 1}, now=NOW, actor="api"
    )
    assert result["correlated"] == "start"
    instance = store.queries.instance(result["instance_id"])
    assert (instance["business_key"], instance["variables"], instance["waiting_at"]) == ("K-9", {"n": 1}, ["a"])


def test_user_task_completes_once(store: Store) -> None:
    deploy(store, chain("p", UserTask(id="approve", assignee="ann")))
    started = start(store, "p")
    [task] = store.queries.tasks()
    assert (task["element"], task["assignee"], task["status"]) == ("approve", "ann", "open")
    store.complete_task(task["id"], {"approved": True}, actor="user:ann", now=NOW)
    assert store.queries.instance(started.instance_id)["variables"] == {"approved": True}
    with pytest.raises(TaskNotActive):
        store.complete_task(task["id"], {}, actor="user:ann", now=NOW)
    assert store.queries.task(task["id"])["ended_by"] == "user:ann"


def test_cancel_closes_everything(store: Store) -> None:
    deploy(store, chain("p", UserTask(id="approve"), service("a")))
    started = start(store, "p")
    store.cancel(started.instance_id, actor="user:ops", now=NOW)
    assert store.queries.instance(started.instance_id)["status"] == "cancelled"
    assert store.queries.tasks() == []
    with pytest.raises(InstanceNotActive):
        store.cancel(started.instance_id, actor="user:ops", now=NOW)


def test_timer_start_event_fires_and_rearms(store: Store) -> None:
    timer = StartEvent(id="start", event=TimerDefinition(kind="cycle", value="R2/PT1H"))
    deploy(store, chain("p", service("a"), start=timer))
    assert claim(store, now=NOW) == []
    [job] = claim(store, now=NOW + timedelta(hours=1, seconds=1))
    assert job.kind == "start_timer"
    instance_id = store.fire_start_timer(job, "w1", NOW + timedelta(hours=1))
    assert store.queries.instance(instance_id or "")["waiting_at"] == ["a"]
    with store.database.read() as conn:
        rows = conn.execute(text("SELECT id FROM jobs WHERE kind = 'start_timer'")).all()
    assert [r.id for r in rows] == [job.id.rsplit(":", 1)[0] + ":2"]


def test_a_lost_race_is_detected_not_overwritten(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    deploy(store, chain("p", service("a")))
    started = start(store, "p")
    [job] = claim(store)
    original = store.executor._load

    def stale_load(conn, ids):  # type: ignore[no-untyped-def]
        loaded = original(conn, ids)
        for item in loaded.values():
            item.version -= 1  # as if another writer committed after we read
        return loaded

    monkeypatch.setattr(store.executor, "_load", stale_load)
    with pytest.raises(ConcurrentModification):
        store.executor.apply(
            [
                CommandItem(
                    instance_id=started.instance_id, command=CompleteJob(wait=job.wait or 0), job=job.id, worker="w1"
                )
            ],
            NOW,
        )
    monkeypatch.undo()
    assert store.queries.instance(started.instance_id)["status"] == "active"
    assert count(store, "jobs") == 1


def test_a_message_reaches_only_a_subscription_for_its_name(store: Store) -> None:
    from legato.engine.commands import CorrelateMessage

    catch = IntermediateCatchEvent(id="paid", event=MessageDefinition(message="payment", correlation_key="order"))
    deploy(store, chain("p", catch))
    started = start(store, "p", variables={"order": "A-1"})
    [wait] = [w for w in store.queries.instance(started.instance_id)["waiting_at"]]
    assert wait == "paid"
    with store.database.read() as conn:
        wait_id = conn.execute(text("SELECT wait FROM subscriptions")).scalar_one()
    outcomes, _ = store.executor.apply(
        [CommandItem(instance_id=started.instance_id, command=CorrelateMessage(wait=wait_id, message="refund"))], NOW
    )
    assert outcomes[0].error is not None and outcomes[0].error.code == "STALE_COMMAND"
    assert store.queries.instance(started.instance_id)["status"] == "active"


def test_signals_reach_every_waiting_instance_and_start_signal_processes(store: Store) -> None:
    from legato.model.elements import IntermediateThrowEvent, SignalDefinition

    catch = IntermediateCatchEvent(id="wait", event=SignalDefinition(signal="go"))
    deploy(store, chain("waiter", catch))
    deploy(store, chain("starter", service("a"), start=StartEvent(id="start", event=SignalDefinition(signal="go"))))
    deploy(store, chain("thrower", IntermediateThrowEvent(id="shout", event=SignalDefinition(signal="go"))))
    waiters = [start(store, "waiter").instance_id for _ in range(3)]
    assert store.queries.count_instances(process="waiter") == {"active": 3}
    thrown = start(store, "thrower")  # the throw is delivered in the same transaction
    assert store.queries.instance(thrown.instance_id)["status"] == "completed"
    assert all(store.queries.instance(w)["status"] == "completed" for w in waiters)
    assert store.queries.count_instances(process="starter") == {"active": 1}
    result, _ = store.executor.broadcast(signal="go", variables={"n": 1}, now=NOW, actor="api")
    assert result == {"signal": "go", "instances": 0, "started": 1}
    assert store.queries.count_instances(process="starter") == {"active": 2}
    assert count(store, "subscriptions") == 0


def test_a_message_never_reaches_a_signal_subscription(store: Store) -> None:
    from legato.model.elements import SignalDefinition

    deploy(store, chain("waiter", IntermediateCatchEvent(id="wait", event=SignalDefinition(signal="go"))))
    start(store, "waiter")
    with pytest.raises(MessageNotCorrelated):
        store.executor.correlate(message="go", correlation_key=None, variables={}, now=NOW, actor=None)


def test_conditional_start_events_start_the_processes_whose_condition_holds(store: Store) -> None:
    from legato.model.elements import ConditionalDefinition

    big = StartEvent(id="start", event=ConditionalDefinition(condition="amount > 1000"))
    eu = StartEvent(id="start", event=ConditionalDefinition(condition='=region = "EU"'))  # FEEL: null when missing
    deploy(store, chain("big_order", service("a"), start=big))
    deploy(store, chain("eu_order", service("a"), start=eu))
    started, _ = store.executor.evaluate_conditions(variables={"amount": 5000}, now=NOW, actor="api")
    assert [s.process for s in started] == ["big_order"]  # region is missing: that condition is not true
    started, _ = store.executor.evaluate_conditions(variables={"amount": 5, "region": "EU"}, now=NOW, actor="api")
    assert [s.process for s in started] == ["eu_order"]
    instance = store.queries.instance(started[0].instance_id)
    assert (instance["variables"], instance["waiting_at"]) == ({"amount": 5, "region": "EU"}, ["a"])
    assert store.executor.evaluate_conditions(variables={}, now=NOW, actor="api")[0] == []
