"""A worker whose link to PostgreSQL fails: its locks hold, nothing is lost, nothing runs twice.

Worker A reaches the database through a fault-injecting TCP proxy (tests/fault_proxy.py);
worker B, a second process in all but name, reaches it directly and would take over any
job whose lock expires. Every handler invocation is counted per job and worker, and each
instance's history is read back: a job's handler must run exactly once, and every instance
must complete exactly once.

- partition: A's link is cut while its handlers run; the results wait in A and are
  committed when the link is back, before the locks run out, so B never sees the jobs;
- stall: A's link forwards nothing for a while; A's calls end at the store's deadline
  instead of hanging, and the results are committed once the link flows again;
- latency: every chunk on A's link is delayed; the instances still complete once each.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from fault_proxy import FaultProxy
from legato.formats.builder import Process
from legato.runtime.app import Legato
from legato.runtime.handlers import Job
from legato.runtime.worker import WorkerSettings
from legato.store import Store
from support import eventually

LOCK_SECONDS = 6.0


class Invocations:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[tuple[str, str]] = Counter()  # (job id, worker name) -> runs

    def handler(self, worker: str, seconds: float) -> Any:
        def work(job: Job) -> dict[str, Any]:
            with self.lock:
                self.calls[(job.id, worker)] += 1
            time.sleep(seconds)
            return {"done_by": worker}

        return work

    def per_job(self) -> Counter[str]:
        with self.lock:
            counts: Counter[str] = Counter()
            for (job, _worker), runs in self.calls.items():
                counts[job] += runs
            return counts

    def workers(self) -> set[str]:
        with self.lock:
            return {worker for _job, worker in self.calls}


def _model() -> Any:
    p = Process("fragile")
    p.start("start").then(p.service("step", "work")).then(p.end("end"))
    return p.build()


def _settings() -> WorkerSettings:
    return WorkerSettings(concurrency=16, lock_seconds=LOCK_SECONDS, poll_interval=0.1, shutdown_grace=5)


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    with FaultProxy(("127.0.0.1", 5432)) as fault_proxy:
        yield fault_proxy


@pytest.fixture
def direct(postgres_url: str) -> Iterator[Legato]:
    legato = Legato(postgres_url, worker_settings=_settings())
    legato.deploy(_model())
    yield legato
    legato.close()


@pytest.fixture
def proxied(postgres_url: str, proxy: FaultProxy, direct: Legato) -> Iterator[Legato]:
    store = Store(proxy.url(postgres_url), connect_timeout=2, statement_timeout=1)
    legato = Legato(store, worker_settings=_settings())
    yield legato
    proxy.heal()
    legato.close()


def _start(direct: Legato, count: int) -> list[str]:
    return [direct.start("fragile", {"n": n}).instance_id for n in range(count)]


def _assert_each_ran_once(direct: Legato, ids: list[str], invocations: Invocations, worker: str) -> None:
    for instance_id in ids:
        eventually(lambda i=instance_id: direct.instance(i)["status"] == "completed", timeout=30)
    counts = invocations.per_job()
    assert len(counts) == len(ids)
    assert set(counts.values()) == {1}, counts  # no job's handler ran twice
    assert invocations.workers() == {worker}  # the other worker never took a job over
    for instance_id in ids:
        instance = direct.instance(instance_id)
        assert instance["variables"]["done_by"] == worker
        completed = [e for e in instance["history"] if e["type"] == "element_completed" and e["element"] == "step"]
        assert len(completed) == 1, instance["history"]


def _run_with_fault(
    direct: Legato, proxied: Legato, fault: Any, heal: Any, *, count: int, handler_seconds: float, fault_seconds: float
) -> tuple[list[str], Invocations]:
    invocations = Invocations()
    proxied.register("work", invocations.handler("A", handler_seconds))
    direct.register("work", invocations.handler("B", handler_seconds))
    ids = _start(direct, count)
    proxied.start_worker()
    eventually(lambda: len(invocations.per_job()) == count, timeout=10)  # A holds every job
    direct.start_worker()  # B polls from now on, ready to take over any lock that runs out
    fault()
    time.sleep(fault_seconds)
    heal()
    return ids, invocations


def test_a_partition_while_handlers_run_loses_nothing_and_runs_nothing_twice(
    direct: Legato, proxied: Legato, proxy: FaultProxy
) -> None:
    ids, invocations = _run_with_fault(
        direct, proxied, proxy.cut, proxy.heal, count=8, handler_seconds=0.5, fault_seconds=2.0
    )
    _assert_each_ran_once(direct, ids, invocations, "A")
    assert proxied.worker is not None and proxied.worker.stats["completed"] == 8


def test_a_stalled_link_ends_in_time_and_the_results_are_kept(
    direct: Legato, proxied: Legato, proxy: FaultProxy
) -> None:
    ids, invocations = _run_with_fault(
        direct, proxied, proxy.stall, proxy.heal, count=6, handler_seconds=0.3, fault_seconds=2.5
    )
    _assert_each_ran_once(direct, ids, invocations, "A")


def test_high_latency_on_the_link_still_completes_each_instance_once(
    direct: Legato, proxied: Legato, proxy: FaultProxy
) -> None:
    invocations = Invocations()
    proxied.register("work", invocations.handler("A", 0.0))
    proxy.delay(0.02)  # 20 ms per chunk each way: a far-away database
    ids = _start(direct, 15)
    proxied.start_worker()
    _assert_each_ran_once(direct, ids, invocations, "A")


@pytest.mark.slow
def test_repeated_partitions_under_load(direct: Legato, proxied: Legato, proxy: FaultProxy) -> None:
    """Many short partitions while instances keep arriving: still each job once, each instance done."""
    invocations = Invocations()
    proxied.register("work", invocations.handler("A", 0.2))
    direct.register("work", invocations.handler("B", 0.2))
    proxied.start_worker()
    direct.start_worker()
    ids: list[str] = []
    for _round in range(10):
        ids += _start(direct, 5)
        time.sleep(0.3)
        proxy.cut()
        time.sleep(1.0)
        proxy.heal()
    for instance_id in ids:
        eventually(lambda i=instance_id: direct.instance(i)["status"] == "completed", timeout=60)
    counts = invocations.per_job()
    assert len(counts) == len(ids) and set(counts.values()) == {1}, counts
