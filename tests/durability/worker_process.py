"""A Legato worker run as its own OS process, so that a test can SIGKILL it.

    python tests/durability/worker_process.py --database URL --effects URL
        --worker-name w1 --lock-seconds 2

It runs the five service tasks of the `durable` process (`s1`..`s5`, task types
`step1`..`step5`) until SIGTERM (a graceful stop) or SIGKILL (a crash).

Every handler talks to an *external system*: a database of its own (`--effects`: a
separate SQLite file, or tables beside the engine's in an isolated PostgreSQL schema,
always through a connection pool of its own and in transactions of its own, which the
engine never sees). It

1. records a *delivery* (the job, its idempotency key, this worker, the attempt, when it
   started), committed at once, so a kill right after it leaves the trace;
2. applies its *effect* once per idempotency key: an insert keyed by the key, which does
   nothing when the key is already there, and a counter of how often the effect was
   attempted, in one transaction;
3. sleeps 0-3 ms, so that kills often land while handlers run;
4. records when the delivery finished, and returns which delivery produced the result,
   so the test can check that the result the engine kept came from a finished delivery.

Delivery is at-least-once, so a killed worker's jobs run again elsewhere; the effects
table shows whether the idempotency key made the side effect exactly-once anyway.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import random
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from legato.model.elements import EndEvent, SequenceFlow, ServiceTask, StartEvent
from legato.model.process import ProcessDefinition
from legato.runtime.app import Legato
from legato.runtime.handlers import Job
from legato.runtime.worker import WorkerSettings
from legato.store.database import normalize_url

PROCESS = "durable"
STEPS = ("s1", "s2", "s3", "s4", "s5")
MAX_HANDLER_SLEEP = 0.003  # seconds

EFFECTS_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS deliveries (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        instance_id TEXT NOT NULL,
        element TEXT NOT NULL,
        worker TEXT NOT NULL,
        incarnation TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        started_at DOUBLE PRECISION NOT NULL,
        finished_at DOUBLE PRECISION,
        applied BOOLEAN
    )""",
    "CREATE INDEX IF NOT EXISTS ix_deliveries_job ON deliveries (job_id)",
    """CREATE TABLE IF NOT EXISTS effects (
        idempotency_key TEXT PRIMARY KEY,
        instance_id TEXT NOT NULL,
        element TEXT NOT NULL,
        delivery TEXT NOT NULL,
        applied_at DOUBLE PRECISION NOT NULL,
        attempts INTEGER NOT NULL
    )""",
)


def definition() -> ProcessDefinition:
    """start -> s1 -> s2 -> s3 -> s4 -> s5 -> end, the service tasks typed step1..step5."""
    elements: dict[str, Any] = {"start": StartEvent(id="start"), "end": EndEvent(id="end")}
    for step in STEPS:
        elements[step] = ServiceTask(id=step, task_type=task_type(step))
    chain = ["start", *STEPS, "end"]
    flows = {
        f"f{i}": SequenceFlow(id=f"f{i}", source=source, target=target)
        for i, (source, target) in enumerate(itertools.pairwise(chain))
    }
    return ProcessDefinition(id=PROCESS, elements=elements, flows=flows)


def task_type(step: str) -> str:
    return f"step{step.removeprefix('s')}"


def effects_engine(url: str, *, pool_size: int = 4) -> sa.Engine:
    """The external system's own connection pool (never the engine's)."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size)


def create_effects_tables(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for statement in EFFECTS_SCHEMA:
            conn.exec_driver_sql(statement)


_RECORD_DELIVERY = sa.text(
    "INSERT INTO deliveries (id, job_id, idempotency_key, instance_id, element, worker, "
    "incarnation, attempt, started_at) VALUES (:id, :job_id, :key, :instance_id, :element, "
    ":worker, :incarnation, :attempt, :started_at)"
)
_APPLY_EFFECT = sa.text(
    "INSERT INTO effects (idempotency_key, instance_id, element, delivery, applied_at, attempts) "
    "VALUES (:key, :instance_id, :element, :delivery, :now, 0) "
    "ON CONFLICT (idempotency_key) DO NOTHING"
)
_COUNT_ATTEMPT = sa.text("UPDATE effects SET attempts = attempts + 1 WHERE idempotency_key = :key")
_MARK_APPLIED = sa.text("UPDATE deliveries SET applied = :applied WHERE id = :id")
_FINISH_DELIVERY = sa.text("UPDATE deliveries SET finished_at = :now WHERE id = :id")


def make_handler(
    effects: sa.Engine, *, worker: str, incarnation: str, serialize: bool
) -> Callable[[Job], dict[str, Any]]:
    """The handler of every step; `serialize` queues this process's writes to a SQLite file."""
    write_lock = threading.Lock() if serialize else None

    def write(work: Callable[[sa.Connection], Any]) -> Any:
        """Run `work` in one transaction of the external system."""
        if write_lock is None:
            with effects.begin() as conn:
                return work(conn)
        with write_lock, effects.begin() as conn:
            return work(conn)

    def execute(statement: sa.TextClause, params: dict[str, Any]) -> None:
        write(lambda conn: conn.execute(statement, params))

    def handle(job: Job) -> dict[str, Any]:
        delivery = uuid.uuid4().hex
        record = {
            "id": delivery,
            "job_id": job.id,
            "key": job.idempotency_key,
            "instance_id": job.instance_id,
            "element": job.element,
            "worker": worker,
            "incarnation": incarnation,
            "attempt": job.attempt,
            "started_at": time.time(),
        }
        execute(_RECORD_DELIVERY, record)

        def apply_effect(conn: sa.Connection) -> bool:
            effect = {
                "key": job.idempotency_key,
                "instance_id": job.instance_id,
                "element": job.element,
                "delivery": delivery,
                "now": time.time(),
            }
            applied = conn.execute(_APPLY_EFFECT, effect).rowcount == 1
            conn.execute(_COUNT_ATTEMPT, {"key": job.idempotency_key})
            conn.execute(_MARK_APPLIED, {"id": delivery, "applied": applied})
            return applied

        write(apply_effect)
        time.sleep(random.uniform(0.0, MAX_HANDLER_SLEEP))
        execute(_FINISH_DELIVERY, {"id": delivery, "now": time.time()})
        return {f"{job.element}_delivery": delivery}

    return handle


def incarnation_of(worker: str, pid: int) -> str:
    """One run of a named worker: a restarted `w1` is a new incarnation of it."""
    return f"{worker}#{pid}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="the engine's database (URL or path)")
    parser.add_argument("--effects", required=True, help="the external system's database URL")
    parser.add_argument("--worker-name", required=True)
    parser.add_argument("--lock-seconds", type=float, default=2.0)
    parser.add_argument("--poll-interval", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Block SIGTERM/SIGINT in every thread (threads inherit the mask) and take them below.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})

    incarnation = incarnation_of(args.worker_name, os.getpid())
    effects = effects_engine(args.effects, pool_size=args.concurrency)
    settings = WorkerSettings(
        concurrency=args.concurrency,
        lock_seconds=args.lock_seconds,
        poll_interval=args.poll_interval,
    )
    app = Legato(args.database, worker_settings=settings, actor=incarnation)
    handle = make_handler(
        effects,
        worker=args.worker_name,
        incarnation=incarnation,
        serialize=effects.dialect.name == "sqlite",
    )
    for step in STEPS:
        app.register(task_type(step), handle)
    app.start_worker()
    print(f"worker {incarnation} running", flush=True)
    received = signal.sigwait({signal.SIGTERM, signal.SIGINT})
    print(f"worker {incarnation} stopping on {signal.Signals(received).name}", flush=True)
    app.close()
    effects.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
