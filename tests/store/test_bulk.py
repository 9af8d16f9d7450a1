"""Bulk retry and bulk cancel on SQLite and PostgreSQL: preview, batches, a result per row, resumable."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from legato.engine.commands import CancelInstance, FailJob, RetryIncident
from legato.errors import InvalidCursor, InvalidFilter
from legato.model.elements import EndEvent, RetryPolicy, SequenceFlow, ServiceTask, StartEvent, UserTask
from legato.model.process import ProcessDefinition
from legato.runtime.app import Legato
from legato.runtime.clock import FakeClock
from legato.store import CommandItem, StartRequest, Store
from legato.store import bulk as bulk_module
from legato.store.bulk import IncidentFilter
from legato.store.search import InstanceFilter

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def order_process(key: str = "order", task: str = "charge") -> ProcessDefinition:
    elements = [
        StartEvent(id="start"),
        ServiceTask(id=task, task_type=task, retry=RetryPolicy(max_attempts=1)),
        UserTask(id="ship"),
        EndEvent(id="end"),
    ]
    pairs = enumerate(itertools.pairwise(elements))
    flows = [SequenceFlow(id=f"f{i}", source=a.id, target=b.id) for i, (a, b) in pairs]
    return ProcessDefinition(id=key, elements={e.id: e for e in elements}, flows={f.id: f for f in flows})


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    s.definitions.deploy(order_process(), source="{}", source_format="python", now=NOW)
    s.definitions.deploy(order_process("refund", "payout"), source="{}", source_format="python", now=NOW)
    yield s
    s.close()


def fail_all(
    store: Store, message: str = "card gateway down", error_type: str = "IOError", now: datetime = NOW
) -> None:
    """Every job that is due fails its only attempt: an incident each."""
    jobs = store.jobs.claim(worker="w1", task_types=["charge", "payout"], limit=1000, now=now, lock_seconds=30)
    items = [
        CommandItem(
            instance_id=job.instance_id or "",
            command=FailJob(wait=job.wait or 0, attempt=1, error_type=error_type, message=message),
            job=job.id,
            worker="w1",
        )
        for job in jobs
    ]
    store.executor.apply(items, NOW)


def start(store: Store, process: str, n: int, **kwargs: Any) -> list[str]:
    started, _ = store.executor.start([StartRequest(process=process, **kwargs) for _ in range(n)], NOW)
    return [s.instance_id for s in started]


def history_types(store: Store, instance_id: str) -> list[str]:
    return [event["type"] for event in store.queries.history(instance_id)]


def test_a_preview_counts_and_names_the_first_and_changes_nothing(store: Store) -> None:
    start(store, "order", 30)
    start(store, "refund", 5)
    fail_all(store)
    report, _ = store.bulk.retry_incidents(
        IncidentFilter(process="order", element="charge"), actor="ann", now=NOW, dry_run=True
    )
    assert (report.dry_run, report.total, report.matched) == (True, 30, 30)
    assert len(report.ids) == bulk_module.SAMPLE and report.items == []
    assert len(store.queries.incidents()) == 35


def test_bulk_retry_by_filter_retries_each_once_with_the_actor(store: Store) -> None:
    orders = start(store, "order", 7)
    refunds = start(store, "refund", 3)
    fail_all(store)
    report, _ = store.bulk.retry_incidents(IncidentFilter(process="order"), actor="user:ann", now=NOW)
    assert (report.count("done"), report.count("skipped"), report.count("failed")) == (7, 0, 0)
    assert sorted(item.instance_id for item in report.items) == sorted(orders)
    open_left = store.queries.incidents()
    assert sorted(i["instance_id"] for i in open_left) == sorted(refunds)
    resolved = [e for e in store.queries.history(orders[0]) if e["type"] == "incident_resolved"]
    assert [e["actor"] for e in resolved] == ["user:ann"]
    again, _ = store.bulk.retry_incidents(IncidentFilter(process="order"), actor="user:ann", now=NOW)
    assert (again.total, again.items) == (0, [])  # the second run finds nothing to do


def test_filters_by_error_text_type_business_key_and_start_time(store: Store) -> None:
    early = start(store, "order", 2, business_key="K-1")
    fail_all(store, message="Card declined by issuer", error_type="Declined")
    later, _ = store.executor.start([StartRequest(process="order") for _ in range(3)], NOW + timedelta(hours=1))
    fail_all(store, now=NOW + timedelta(hours=1))

    def matched(**filters: Any) -> int:
        return store.bulk.retry_incidents(IncidentFilter(**filters), actor="a", now=NOW, dry_run=True)[0].total

    assert matched(error="DECLINED") == 2
    assert matched(error_type="IOError") == 3
    assert matched(business_key="K-1") == 2
    assert matched(started_before=NOW + timedelta(minutes=30)) == 2
    assert matched(started_after=NOW + timedelta(minutes=30)) == 3
    assert matched(process="order", version=1, element="charge") == 5
    assert matched(process="order", element="nowhere") == 0
    assert matched(error="100%_off") == 0  # LIKE's own characters are literal
    assert len(early) == 2 and len(later) == 3


def test_a_limit_per_request_and_a_cursor_to_go_on(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_module, "BATCH", 4)  # several transactions in one request
    ids = start(store, "order", 11)
    fail_all(store)
    seen: list[str] = []
    cursor = None
    for expected in (5, 5, 1):
        report, _ = store.bulk.retry_incidents(IncidentFilter(), actor="a", now=NOW, limit=5, cursor=cursor)
        assert report.count("done") == expected
        seen += [item.instance_id for item in report.items]
        cursor = report.next_cursor
        fail_all(store)  # the retried jobs fail again: new incidents, which are not this run's
    assert cursor is None and sorted(seen) == sorted(ids)
    assert len(store.queries.incidents()) == 11  # each failed once more, none was retried twice
    with pytest.raises(InvalidFilter):
        store.bulk.retry_incidents(IncidentFilter(), actor="a", now=NOW, limit=bulk_module.MAX_BULK + 1)
    with pytest.raises(InvalidCursor):
        store.bulk.cancel_instances(InstanceFilter(), actor="a", now=NOW, cursor=report.next_cursor or "W10")


def test_an_incident_resolved_in_the_meantime_is_skipped_with_the_reason(store: Store) -> None:
    start(store, "order", 3)
    fail_all(store)
    with store.database.read() as conn:
        rows = conn.execute(text("SELECT id, instance_id, wait FROM incidents ORDER BY id")).all()
    store.retry_incident(rows[0].id, actor="bob", now=NOW)  # bob got there between selection and action
    targets = [(r.id, r.instance_id, RetryIncident(wait=r.wait, actor="ann")) for r in rows]
    items, _ = store.bulk.run_commands(targets, NOW, None)
    assert [item.result for item in items] == ["skipped", "done", "done"]
    assert items[0].code == "INCIDENT_NOT_OPEN" and "no open incident" in (items[0].reason or "")
    assert history_types(store, rows[0].instance_id).count("incident_resolved") == 1


def test_bulk_cancel_by_filter_with_a_preview_and_results(store: Store) -> None:
    stuck = start(store, "order", 4, business_key="withdrawn")
    keep = start(store, "order", 2)
    preview = store.bulk.cancel_instances(
        InstanceFilter(process="order", business_key="withdrawn"), actor="ann", now=NOW, dry_run=True
    )
    assert (preview.total, sorted(preview.ids)) == (4, sorted(stuck))
    report = store.bulk.cancel_instances(
        InstanceFilter(process="order", business_key="withdrawn"), actor="ann", now=NOW, reason="product withdrawn"
    )
    assert report.count("done") == 4
    for instance_id in stuck:
        assert store.queries.status(instance_id) == "cancelled"
        cancelled = [e for e in store.queries.history(instance_id) if e["type"] == "instance_cancelled"]
        assert cancelled and cancelled[0]["actor"] == "ann"
    assert {store.queries.status(i) for i in keep} == {"active"}
    again = store.bulk.cancel_instances(InstanceFilter(business_key="withdrawn"), actor="ann", now=NOW)
    assert again.items == []
    with pytest.raises(InvalidFilter):
        store.bulk.cancel_instances(InstanceFilter(status="completed"), actor="ann", now=NOW)


def test_cancel_races_are_skipped_not_done_twice(store: Store) -> None:
    [instance_id] = start(store, "order", 1)
    store.cancel(instance_id, actor="bob", now=NOW)
    items, _ = store.bulk.run_commands([(instance_id, instance_id, CancelInstance(actor="ann"))], NOW, None)
    assert (items[0].result, items[0].code) == ("skipped", "INSTANCE_NOT_ACTIVE")
    assert history_types(store, instance_id).count("instance_cancelled") == 1


def test_bulk_retry_while_a_worker_runs_the_same_instances_does_nothing_twice(database_url: str) -> None:
    """Two operators retry the same incidents at once while the worker runs what they retry:
    every incident is resolved once and every job runs once more, never twice."""
    app = Legato(Store(database_url), clock=FakeClock(NOW))
    app.store.definitions.deploy(order_process(), source="{}", source_format="python", now=NOW)
    runs: dict[str, int] = {}
    lock = threading.Lock()
    healthy = threading.Event()

    def charge(job: Any) -> dict[str, Any]:
        if not healthy.is_set():
            raise ConnectionError("card gateway down")
        with lock:
            runs[job.instance_id] = runs.get(job.instance_id, 0) + 1
        return {"charged": True}

    app.register("charge", charge)
    ids = start(app.store, "order", 60)
    try:
        with app.running():
            deadline = datetime.now() + timedelta(seconds=30)
            while len(app.store.queries.incidents(limit=1000)) < 60:
                assert datetime.now() < deadline, "the incidents did not appear"
                threading.Event().wait(0.05)
            healthy.set()
            reports: list[dict[str, Any]] = []

            def operator(name: str) -> None:
                cursor = None
                while True:
                    report = app.retry_incidents(process="order", limit=7, cursor=cursor, actor=name)
                    reports.append(report)
                    cursor = report["next_cursor"]
                    if cursor is None:
                        return

            threads = [threading.Thread(target=operator, args=(f"user:{n}",)) for n in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            deadline = datetime.now() + timedelta(seconds=30)
            while sum(runs.values()) < 60:
                assert datetime.now() < deadline, f"only {sum(runs.values())} jobs ran again"
                threading.Event().wait(0.05)
            threading.Event().wait(0.3)  # a job run twice would show up by now
        assert sum(r["done"] for r in reports) == 60
        assert runs == dict.fromkeys(ids, 1)
        for instance_id in ids:
            assert history_types(app.store, instance_id).count("incident_resolved") == 1
    finally:
        app.close()
