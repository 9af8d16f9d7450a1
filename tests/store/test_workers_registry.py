"""The registry of live workers on SQLite and PostgreSQL: signs of life, expiry, who serves what."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from legato.model.elements import EndEvent, SequenceFlow, ServiceTask, StartEvent
from legato.model.process import ProcessDefinition
from legato.store import StartRequest, Store
from legato.store import workers as registry
from legato.store.codec import to_epoch

NOW = datetime(2030, 1, 1, tzinfo=UTC)
T = to_epoch(NOW)


def charge_process() -> ProcessDefinition:
    elements = [StartEvent(id="start"), ServiceTask(id="charge", task_type="card.charge"), EndEvent(id="end")]
    flows = [
        SequenceFlow(id="f1", source="start", target="charge"),
        SequenceFlow(id="f2", source="charge", target="end"),
    ]
    return ProcessDefinition(id="order", elements={e.id: e for e in elements}, flows={f.id: f for f in flows})


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    yield s
    s.close()


def test_a_worker_serves_its_task_types_while_it_is_seen_and_not_after(store: Store) -> None:
    workers = store.workers
    assert workers.unserved(["card.charge", None], T) == ["card.charge"]
    workers.seen("host:1:a", kind=registry.IN_PROCESS, task_types=["card.charge", "mail.send"], now=T)
    assert workers.unserved(["card.charge", "mail.send", "ship"], T) == ["ship"]
    [row] = workers.registered(T)
    assert row["id"] == "host:1:a" and row["kind"] == "in-process" and row["live"] is True
    assert row["task_types"] == ["card.charge", "mail.send"] and row["host"]
    later = T + registry.LIVE_SECONDS + 1  # it died without a word: it falls out by itself
    assert workers.registered(later) == []
    assert [w["live"] for w in workers.registered(later, everyone=True)] == [False]
    other = Store(store.database.url)  # another server on the same database agrees
    try:
        assert other.workers.unserved(["card.charge"], later) == ["card.charge"]
        assert other.workers.unserved(["card.charge"], T) == []
    finally:
        other.close()


def test_signs_of_life_are_thinned_out_unless_the_task_types_change(store: Store) -> None:
    workers = store.workers
    assert workers.seen("external:w1", kind=registry.EXTERNAL, task_types=["a"], now=T) is True
    assert workers.seen("external:w1", kind=registry.EXTERNAL, task_types=["a"], now=T + 1) is False
    assert workers.seen("external:w1", kind=registry.EXTERNAL, task_types=["a", "b"], now=T + 2) is True
    assert workers.unserved(["b"], T + 2) == []
    assert workers.seen("external:w1", kind=registry.EXTERNAL, task_types=["a", "b"], now=T + 3, force=True)
    [row] = workers.registered(T + 3)
    assert row["last_seen_at"] == T + 3 and row["started_at"] == T and row["host"] is None


def test_a_worker_that_stops_serves_nothing_and_old_rows_are_pruned(store: Store) -> None:
    workers = store.workers
    workers.seen("host:1:a", kind=registry.IN_PROCESS, task_types=["a"], now=T)
    workers.seen("host:2:b", kind=registry.IN_PROCESS, task_types=["b"], now=T, tenants=["acme"])
    workers.gone("host:1:a")
    assert workers.unserved(["a", "b"], T) == ["a"]
    assert workers.registered(T)[0]["tenants"] == ["acme"]
    workers.prune(T + registry.KEEP_SECONDS + 1)
    assert workers.registered(T, everyone=True) == []


def test_the_jobs_waiting_on_an_unserved_task_type_are_found(store: Store) -> None:
    store.definitions.deploy(charge_process(), source="{}", source_format="python", now=NOW)
    started, _ = store.executor.start([StartRequest(process="order", tenant="acme") for _ in range(2)], NOW)
    assert started[0].jobs == (("charge", "card.charge"),)
    assert store.workers.waiting(T) == [("charge", "card.charge")]
    assert store.workers.waiting(T, frozenset({"acme"})) == [("charge", "card.charge")]
    assert store.workers.waiting(T, frozenset({"beta"})) == []  # acme's jobs are not beta's business
    store.workers.seen("host:1:a", kind=registry.IN_PROCESS, task_types=["card.charge"], now=T)
    assert store.workers.waiting(T) == []
    warnings = registry.unserved_warnings([("charge", "card.charge"), ("refund", "card.charge")], ["card.charge"])
    assert [w["elements"] for w in warnings] == [["charge", "refund"]]
    assert warnings[0]["code"] == "TASK_TYPE_UNSERVED" and "'card.charge'" in warnings[0]["message"]
