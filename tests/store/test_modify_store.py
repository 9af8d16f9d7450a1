"""Modifying an instance in the store, on SQLite and PostgreSQL: the rows of the waits follow the token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from test_bulk import order_process

from legato.errors import InstanceNotActive, ModificationInvalid
from legato.store import StartRequest, Store

NOW = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    s.definitions.deploy(order_process(), source="{}", source_format="python", now=NOW)
    yield s
    s.close()


def rows(store: Store, sql: str, **params: str) -> list[tuple[object, ...]]:
    with store.database.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def test_the_cancelled_job_row_goes_and_the_new_task_row_comes_in_one_step(store: Store) -> None:
    started, _ = store.executor.start([StartRequest(process="order")], NOW)
    instance_id = started[0].instance_id
    assert rows(store, "SELECT element FROM jobs WHERE instance_id = :i", i=instance_id) == [("charge",)]
    store.modify(instance_id, cancel=["charge"], start_before=["ship"], actor="ann", now=NOW)
    assert rows(store, "SELECT element FROM jobs WHERE instance_id = :i", i=instance_id) == []
    tasks = rows(store, "SELECT element, status FROM user_tasks WHERE instance_id = :i", i=instance_id)
    assert tasks == [("ship", "open")]
    types = [e["type"] for e in store.queries.history(instance_id)]
    assert types[-3:] == ["instance_modified", "element_terminated", "element_entered"]


def test_a_refused_modification_leaves_every_row_as_it_was(store: Store) -> None:
    started, _ = store.executor.start([StartRequest(process="order")], NOW)
    instance_id = started[0].instance_id
    before = rows(store, "SELECT state, version FROM instances WHERE id = :i", i=instance_id)
    jobs = rows(store, "SELECT id, element FROM jobs WHERE instance_id = :i", i=instance_id)
    with pytest.raises(ModificationInvalid):
        store.modify(instance_id, cancel=["charge"], start_before=["nowhere"], actor="ann", now=NOW)
    assert rows(store, "SELECT state, version FROM instances WHERE id = :i", i=instance_id) == before
    assert rows(store, "SELECT id, element FROM jobs WHERE instance_id = :i", i=instance_id) == jobs
    store.cancel(instance_id, actor="ann", now=NOW)
    with pytest.raises(InstanceNotActive):
        store.modify(instance_id, start_before=["ship"], actor="ann", now=NOW)
