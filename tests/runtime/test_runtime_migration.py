"""`Legato.migrate_instances`, embedded: the same verb as over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from legato.errors import InvalidInput, MigrationInvalid
from legato.formats.builder import Process
from legato.model.process import ProcessDefinition
from legato.runtime.app import Legato
from legato.runtime.clock import FakeClock


def review(then_notify: bool) -> ProcessDefinition:
    p = Process("review")
    task = p.start("submitted").then(p.user("review"))
    task.on_timer(duration="P3D", id="overdue").then(p.end("timed_out"))
    if then_notify:
        task = task.then(p.service("notify", "mail.send"))
    task.then(p.end("reviewed"))
    return p.build()


@pytest.fixture
def app(database_url: str) -> Iterator[Legato]:
    legato = Legato(database_url, clock=FakeClock())
    yield legato
    legato.close()


def test_an_embedded_migration_keeps_the_timer_due_and_runs_the_new_path(app: Legato) -> None:
    app.deploy(review(then_notify=False))
    instance_id = app.start("review", {}).instance_id
    [timer] = [job for job in app.instance(instance_id)["jobs"] if job["element"] == "overdue"]
    app.deploy(review(then_notify=True))
    report = app.migrate_instances("review", from_version=1, to_version=2, actor="ann")
    assert report["done"] == 1 and report["tenant"] is None
    instance = app.instance(instance_id)
    assert instance["version"] == 2
    [moved] = [job for job in instance["jobs"] if job["element"] == "overdue"]
    assert moved["id"] == timer["id"] and moved["due_at"] == timer["due_at"]  # Camunda's default: not re-evaluated
    app.complete_task(app.task_for(instance_id)["id"], {})
    assert app.instance(instance_id)["waiting_at"] == ["notify"]
    [entry] = [e for e in app.store.queries.history(instance_id) if e["type"] == "instance_migrated"]
    assert entry["actor"] == "ann"


def test_bad_instructions_are_refused_before_anything_moves(app: Legato) -> None:
    app.deploy(review(then_notify=False))
    app.start("review", {})
    app.deploy(review(then_notify=True))
    with pytest.raises(InvalidInput):
        app.migrate_instances("review", from_version=1, to_version=2, mapping={"review": ""})
    with pytest.raises(MigrationInvalid) as refused:
        app.migrate_instances("review", from_version=1, to_version=2, mapping={"review": "notify"})
    assert refused.value.problems[0]["element"] == "review"
    assert app.instances()[0]["version"] == 1
