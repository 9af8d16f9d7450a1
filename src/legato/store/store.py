"""The store facade: one object that opens a database and offers every persistent operation.

The runtime, the API and the test harness hold a `Store`; it delegates to one module per
concept (definitions, the command executor, jobs, queries) and adds the single-instance
operations that people trigger: completing a task, retrying an incident, cancelling.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text

from legato.engine.commands import CancelInstance, Command, ModifyInstance, RetryIncident, SetVariables
from legato.engine.expressions import timer_due
from legato.errors import (
    IncidentNotOpen,
    InstanceNotActive,
    InstanceNotFound,
)
from legato.model.elements import StartEvent, TimerDefinition
from legato.model.sensitive import SensitiveNames
from legato.store import migrate
from legato.store.audit import AuditLog
from legato.store.bulk import Bulk
from legato.store.changes import Changes
from legato.store.codec import to_epoch
from legato.store.commands import CommandItem, Executor, Outcome, StartRequest
from legato.store.database import DEFAULT_CONNECT_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT, Database
from legato.store.decisions import Decisions
from legato.store.definitions import Definitions
from legato.store.gauges import Gauges
from legato.store.identity import Directory
from legato.store.instance_migration import InstanceMigrations
from legato.store.job_signals import JobSignals
from legato.store.jobs import ClaimedJob, Jobs
from legato.store.kpis import Kpis
from legato.store.queries import Queries
from legato.store.sealing import Keyring, Mode, Sealer
from legato.store.search import Search
from legato.store.statistics import Statistics
from legato.store.task_actions import TaskActions, TaskActor
from legato.store.task_files import TaskFiles
from legato.store.task_filters import TaskFilters
from legato.store.task_search import TaskSearch
from legato.store.tenants import Tenants, Visible
from legato.store.workers import Workers
from legato.store.writer import ClaimNew, Handoff, Writer, wait_key
from legato.telemetry import Metrics

jobs_log = logging.getLogger("legato.jobs")


class Store:
    def __init__(
        self,
        url: str,
        *,
        sqlite_synchronous: str = "NORMAL",
        run_migrations: bool = True,
        audit_keys: Sequence[bytes] = (),
        sensitive: Iterable[str] = (),
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
        encryption_keys: Keyring | None = None,
        encrypt: Mode = "sensitive",
        metrics: Metrics | None = None,
    ) -> None:
        """`sensitive`: glob patterns of variable names held sensitive in every process
        (model/sensitive.py), on top of what each process declares. `encryption_keys`
        turns on encryption at rest (store/sealing.py): the sensitive variables, or with
        `encrypt="all"` every variable, are sealed with the keyring's primary key.
        `metrics` counts what this store's users do (`legato.telemetry`; default: a new set,
        `Metrics(enabled=False)` counts nothing)."""
        self._scratch: str | None = None
        self.sensitive = SensitiveNames(tuple(sensitive))
        self._names: dict[int, SensitiveNames] = {}
        self.database = Database(
            url,
            sqlite_synchronous=sqlite_synchronous,
            connect_timeout=connect_timeout,
            statement_timeout=statement_timeout,
        )
        if run_migrations:
            migrate.upgrade(self.database)
        self.sealer = None if encryption_keys is None else Sealer(encryption_keys, mode=encrypt)
        self.database.sealer = self.sealer
        self.definitions = Definitions(self.database)
        self.job_signals = JobSignals(self.database)
        self.executor = Executor(self.database, self.definitions, self.job_signals)
        self.executor.sealer = self.sealer
        self.executor.names_of = self.sensitive_names
        self.metrics = metrics or Metrics()
        self.executor.metrics = self.metrics
        self.gauges = Gauges(self.database)
        self.jobs = Jobs(self.database, self.metrics)
        self.queries = Queries(self.database)
        self.search = Search(self.database)
        self.bulk = Bulk(self.database, self.executor, self.search)
        self.workers = Workers(self.database)
        self.migrations = InstanceMigrations(self.database, self.definitions, self.executor, self.bulk)
        self.statistics = Statistics(self.database)
        self.kpis = Kpis(self.database, self.statistics)
        self.decisions = Decisions(self.database)
        self.changes = Changes(self.database)
        self.tasks = TaskActions(self.executor)
        self.task_files = TaskFiles(self.database)
        self.task_search = TaskSearch(self.database)
        self.task_filters = TaskFilters(self.database)
        self.directory = Directory(self.database)
        self.tenants = Tenants(self.database)
        self.audit = AuditLog(self.database, keys=audit_keys)  # keys: see legato.store.audit

    @classmethod
    def memory(cls) -> Store:
        """A throwaway store for tests of your own processes, removed again by `close()`.

        It is a SQLite file in a fresh temporary folder (in RAM where /dev/shm exists), not
        SQLite's `:memory:`: that database lives in one connection, which the worker's
        threads would have to share, while a file gives each thread its own connection
        with the same WAL semantics as a real deployment.
        """
        folder = tempfile.mkdtemp(prefix="legato-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        store = cls(os.path.join(folder, "legato.db"))
        store._scratch = folder
        return store

    def sensitive_names(self, definition_id: int) -> SensitiveNames:
        """The variable names sensitive in instances of a stored definition: the store's
        patterns and the process's own declaration."""
        names = self._names.get(definition_id)
        if names is None:
            names = self._names[definition_id] = self.sensitive.including(
                self.definitions.by_id(definition_id).model.sensitive
            )
        return names

    def close(self) -> None:
        self.job_signals.close()
        self.database.dispose()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    # -- single-instance operations --------------------------------------------------------

    def command(
        self, instance_id: str, command: Command, now: datetime, claim_new: ClaimNew | None = None
    ) -> list[Handoff]:
        """Apply one command and raise its error, as an API caller expects."""
        outcomes, handoffs = self.executor.apply(
            [CommandItem(instance_id=instance_id, command=command)], now, claim_new
        )
        _raise(outcomes[0])
        return handoffs

    def complete_task(
        self,
        task_id: str,
        variables: dict[str, Any],
        *,
        actor: str | None,
        now: datetime,
        claim_new: ClaimNew | None = None,
        visible: Visible = None,
        by: TaskActor | None = None,
    ) -> list[Handoff]:
        """Complete an open task with its output variables.

        `by` is the person completing it, whose rules apply (store/task_actions.py: only the
        assignee, unless an operator); None is the program itself, which may complete any
        task not pending in a delegation, recorded as `actor`.
        """
        who = by if by is not None else TaskActor(name=actor or "", operator=True)
        return self.tasks.complete(task_id, variables, who, now=now, claim_new=claim_new, visible=visible)

    def retry_incident(
        self,
        incident_id: int,
        *,
        actor: str | None,
        now: datetime,
        claim_new: ClaimNew | None = None,
        variables: dict[str, Any] | None = None,
        visible: Visible = None,
    ) -> list[Handoff]:
        incident = self.queries.incident(incident_id, visible)
        if incident["status"] != "open":
            raise IncidentNotOpen(
                f"incident {incident_id} is already {incident['status']}", details={"incident_id": incident_id}
            )
        with self.database.read() as conn:
            wait = conn.execute(text("SELECT wait FROM incidents WHERE id = :id"), {"id": incident_id}).scalar_one()
        command = RetryIncident(wait=wait, actor=actor, variables=dict(variables or {}))
        handoffs = self.command(incident["instance_id"], command, now, claim_new)
        jobs_log.info(
            "incident %s retried by %s: %s runs again",
            incident_id,
            actor or "-",
            incident["element"],
            extra={
                "instance_id": incident["instance_id"],
                "element": incident["element"],
                "job_id": wait_key(incident["instance_id"], wait),
            },
        )
        return handoffs

    def set_variables(
        self,
        instance_id: str,
        variables: dict[str, Any],
        remove: tuple[str, ...] = (),
        *,
        actor: str | None,
        now: datetime,
        claim_new: ClaimNew | None = None,
        visible: Visible = None,
    ) -> list[Handoff]:
        """Set and remove instance variables in one step, recorded in the history with the actor."""
        self.queries.check_instance(instance_id, visible)
        command = SetVariables(variables=dict(variables), remove=tuple(remove), actor=actor)
        return self.command(instance_id, command, now, claim_new)

    def modify(
        self,
        instance_id: str,
        *,
        cancel: Sequence[str] = (),
        start_before: Sequence[str] = (),
        reason: str | None = None,
        actor: str | None,
        now: datetime,
        claim_new: ClaimNew | None = None,
        visible: Visible = None,
    ) -> list[Handoff]:
        """Cancel the tokens at `cancel`'s elements and start tokens before `start_before`'s,
        as one engine command (engine/modify.py): all of it, with the waits of both, or nothing."""
        self.queries.check_instance(instance_id, visible)
        command = ModifyInstance(cancel=tuple(cancel), start_before=tuple(start_before), reason=reason, actor=actor)
        handoffs = self.command(instance_id, command, now, claim_new)
        jobs_log.info(
            "instance %s modified by %s: cancelled at %s, started before %s",
            instance_id,
            actor or "-",
            ", ".join(cancel) or "-",
            ", ".join(start_before) or "-",
            extra={"instance_id": instance_id},
        )
        return handoffs

    def cancel(
        self, instance_id: str, *, actor: str | None, now: datetime, reason: str | None = None, visible: Visible = None
    ) -> None:
        self.queries.check_instance(instance_id, visible)
        self.command(instance_id, CancelInstance(actor=actor, reason=reason), now)

    def fire_start_timer(self, job: ClaimedJob, worker: str, now: datetime) -> str | None:
        """Start an instance for a timer start event and arm its next occurrence."""
        assert job.definition_id is not None
        stored = self.definitions.by_id(job.definition_id)
        event = stored.model.elements[job.element]
        assert isinstance(event, StartEvent)
        timer = next(trigger for trigger in event.triggers if isinstance(trigger, TimerDefinition))
        fired = int(job.id.rsplit(":", 1)[1])
        writer = Writer(now=now, sealer=self.sealer, metrics=self.metrics)
        with self.database.write() as conn:
            owner = conn.execute(text("SELECT locked_by FROM jobs WHERE id = :id"), {"id": job.id}).scalar()
            if owner != worker:
                return None
            conn.execute(text("DELETE FROM jobs WHERE id = :id"), {"id": job.id})
            due = timer_due(timer, {}, now, fired, now, job.element) if timer.kind == "cycle" else None
            if due is not None:
                conn.execute(
                    text(
                        "INSERT INTO jobs (id, definition_id, kind, element, due_at, attempts, created_at, "
                        "tenant_id) VALUES (:id, :definition, 'start_timer', :element, :due, 0, :now, :tenant)"
                    ),
                    {
                        "id": f"start:{stored.id}:{job.element}:{fired + 1}",
                        "definition": stored.id,
                        "element": job.element,
                        "due": to_epoch(due),
                        "now": to_epoch(now),
                        "tenant": stored.tenant,
                    },
                )
            started = self.executor.start_within(
                conn,
                StartRequest(
                    process=stored.key,
                    version=stored.version,
                    start_event=job.element,
                    actor="timer",
                    tenant=stored.tenant,
                    definition_id=stored.id,
                ),
                now,
                writer,
            )
            self.executor.finish(conn, writer, now)
        return started.instance_id


def _raise(outcome: Outcome) -> None:
    if outcome.ok:
        return
    if outcome.error is not None:
        raise outcome.error
    raise InstanceNotFound("the instance was not found")


__all__ = ["InstanceNotActive", "Store"]
