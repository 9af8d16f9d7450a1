"""Migrating instances in the store, on SQLite and PostgreSQL: the rows of the waits follow the instance."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from legato.engine.commands import CompleteJob, FailJob
from legato.errors import MigrationInvalid
from legato.model.elements import Element, EndEvent, RetryPolicy, SequenceFlow, ServiceTask, StartEvent, UserTask
from legato.model.process import ProcessDefinition
from legato.store import CommandItem, StartRequest, Store

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def line(*elements: Element) -> ProcessDefinition:
    flows = [SequenceFlow(id=f"f_{a.id}_{b.id}", source=a.id, target=b.id) for a, b in itertools.pairwise(elements)]
    return ProcessDefinition(id="order", elements={e.id: e for e in elements}, flows={f.id: f for f in flows})


def version_1() -> ProcessDefinition:
    return line(
        StartEvent(id="start"),
        ServiceTask(id="charge", task_type="card.charge", retry=RetryPolicy(max_attempts=1)),
        UserTask(id="ship"),
        EndEvent(id="end"),
    )


def version_2() -> ProcessDefinition:
    """charge goes to another handler; ship became pack; a notification comes last."""
    return line(
        StartEvent(id="start"),
        ServiceTask(id="charge", task_type="payments.charge"),
        UserTask(id="pack"),
        ServiceTask(id="notify", task_type="mail.send"),
        EndEvent(id="end"),
    )


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    s.definitions.deploy(version_1(), source="v1", source_format="python", now=NOW)
    s.definitions.deploy(version_2(), source="v2", source_format="python", now=NOW)
    yield s
    s.close()


def rows(store: Store, sql: str, **params: object) -> list[tuple[object, ...]]:
    with store.database.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def start(store: Store, count: int) -> list[str]:
    started, _ = store.executor.start([StartRequest(process="order", version=1) for _ in range(count)], NOW)
    return [s.instance_id for s in started]


def to_ship(store: Store, instance_id: str) -> None:
    wait = int(rows(store, "SELECT wait FROM jobs WHERE instance_id = :i", i=instance_id)[0][0])  # type: ignore[call-overload]
    store.command(instance_id, CompleteJob(wait=wait), NOW)


def migrate(store: Store, **options: object) -> dict[str, object]:
    report, _ = store.migrations.migrate_instances(
        "order",
        from_version=int(options.pop("from_version", 1)),  # type: ignore[call-overload]
        to_version=int(options.pop("to_version", 2)),  # type: ignore[call-overload]
        actor="ann",
        now=NOW,
        **options,  # type: ignore[arg-type]
    )
    return report


def test_jobs_keep_their_rows_and_take_the_new_task_type_and_the_instance_runs_on_version_2(store: Store) -> None:
    [instance_id] = start(store, 1)
    job_before = rows(store, "SELECT id, attempts, due_at FROM jobs WHERE instance_id = :i", i=instance_id)
    report = migrate(store)
    assert (report["done"], report["skipped"], report["failed"]) == (1, 0, 0)
    assert report["mapping"] == {"charge": "charge", "end": "end", "start": "start"}
    assert (report["from_version"], report["to_version"]) == (1, 2)
    v2 = store.definitions.get("order", 2).id
    assert rows(store, "SELECT definition_id FROM instances WHERE id = :i", i=instance_id) == [(v2,)]
    assert rows(store, "SELECT id, attempts, due_at FROM jobs WHERE instance_id = :i", i=instance_id) == job_before
    assert rows(store, "SELECT element, task_type FROM jobs WHERE instance_id = :i", i=instance_id) == [
        ("charge", "payments.charge")
    ]
    [migrated] = [e for e in store.queries.history(instance_id) if e["type"] == "instance_migrated"]
    assert migrated["actor"] == "ann"
    assert migrated["data"]["from_version"] == 1 and migrated["data"]["to_version"] == 2
    assert store.queries.instance(instance_id)["version"] == 2
    to_ship(store, instance_id)  # version 2's path: pack comes after charge
    assert rows(store, "SELECT element FROM user_tasks WHERE instance_id = :i", i=instance_id) == [("pack",)]


def test_an_instance_at_an_unmapped_element_fails_with_the_element_named_and_stays(store: Store) -> None:
    at_charge, at_ship = start(store, 2)
    to_ship(store, at_ship)
    report = migrate(store)
    results = {item["instance_id"]: item for item in report["items"]}  # type: ignore[attr-defined]
    assert results[at_charge]["result"] == "done"
    failed = results[at_ship]
    assert failed["result"] == "failed" and failed["code"] == "MIGRATION_INVALID"
    assert failed["problems"] == [
        {"element": "ship", "reason": "a token is at this element, which the plan does not map"}
    ]
    v1 = store.definitions.get("order", 1).id
    assert rows(store, "SELECT definition_id FROM instances WHERE id = :i", i=at_ship) == [(v1,)]
    # with the instruction ship=pack the rest moves, and its open task row with it
    again = migrate(store, mapping={"ship": "pack"})
    assert (again["done"], again["failed"]) == (1, 0)
    assert rows(store, "SELECT element, status FROM user_tasks WHERE instance_id = :i", i=at_ship) == [("pack", "open")]
    assert migrate(store, mapping={"ship": "pack"})["matched"] == 0  # nothing left: nothing moves twice


def test_a_dry_run_names_the_instances_that_would_fail_and_moves_none(store: Store) -> None:
    at_charge, at_ship = start(store, 2)
    to_ship(store, at_ship)
    before = rows(store, "SELECT id, definition_id, version FROM instances ORDER BY id")
    report = migrate(store, dry_run=True)
    assert report["dry_run"] is True and report["matched"] == 2
    assert [item["instance_id"] for item in report["items"]] == [at_ship]  # type: ignore[attr-defined]
    assert sorted(report["ids"]) == sorted([at_charge, at_ship])  # type: ignore[call-overload]
    assert rows(store, "SELECT id, definition_id, version FROM instances ORDER BY id") == before


def test_a_bad_plan_is_refused_before_any_instance_is_looked_at(store: Store) -> None:
    start(store, 1)
    before = rows(store, "SELECT id, definition_id, version FROM instances ORDER BY id")
    with pytest.raises(MigrationInvalid) as refused:
        migrate(store, mapping={"ship": "notify"})
    assert refused.value.problems[0]["element"] == "ship"
    assert "UserTask" in refused.value.problems[0]["reason"]
    with pytest.raises(MigrationInvalid):
        migrate(store, to_version=1)
    assert rows(store, "SELECT id, definition_id, version FROM instances ORDER BY id") == before


def test_the_pages_go_on_by_cursor(store: Store) -> None:
    start(store, 3)
    first = migrate(store, limit=2)
    assert first["done"] == 2 and first["next_cursor"] is not None and first["total"] == 3
    rest = migrate(store, limit=2, cursor=first["next_cursor"])
    assert rest["done"] == 1 and rest["next_cursor"] is None


def test_an_open_incident_moves_with_its_job(store: Store) -> None:
    [instance_id] = start(store, 1)
    [job] = store.jobs.claim(worker="w1", task_types=["card.charge"], limit=10, now=NOW, lock_seconds=30)
    item = CommandItem(
        instance_id=instance_id,
        command=FailJob(wait=job.wait or 0, attempt=1, error_type="IOError", message="down"),
        job=job.id,
        worker="w1",
    )
    store.executor.apply([item], NOW)
    migrate(store, mapping={"charge": "charge"})
    assert rows(store, "SELECT element, status FROM incidents WHERE instance_id = :i", i=instance_id) == [
        ("charge", "open")
    ]
    [incident] = store.queries.incidents(instance_id=instance_id)
    store.retry_incident(incident["id"], actor="ann", now=NOW)
    assert rows(store, "SELECT task_type FROM jobs WHERE instance_id = :i", i=instance_id) == [("payments.charge",)]
