"""Turns engine effects into rows, and writes a whole batch with one statement per kind.

Effects are coalesced per row before anything is written: a job scheduled and cancelled
in the same step never reaches the table, a retry of a job inserted in the same step
updates the insert. After coalescing, every insert is of a new id and every update or
delete is of a row that existed before the batch, so the fixed order deletes -> inserts
-> updates is always right. Group commit is what makes this pay: one executemany per
kind of row for the hundreds of steps of a batch, instead of statements per step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from legato.engine import effects as fx
from legato.store.codec import dumps, to_epoch
from legato.store.database import Database
from legato.store.sealing import Sealer, Sealing
from legato.store.sql import execute_many
from legato.telemetry import Metrics

_SQL = {
    "job_insert": (
        "INSERT INTO jobs (id, instance_id, wait, definition_id, kind, element, task_type, due_at, attempts, "
        "timeout, payload, locked_by, lock_expires_at, last_error, created_at, tenant_id, traceparent, process_key) "
        "VALUES (:id, :instance_id, :wait, NULL, :kind, :element, :task_type, :due_at, :attempts, :timeout, :payload, "
        ":locked_by, :lock_expires_at, :last_error, :created_at, :tenant_id, :traceparent, :process_key)"
    ),
    "job_update": (
        "UPDATE jobs SET due_at = :due_at, attempts = :attempts, last_error = :last_error, "
        "locked_by = NULL, lock_expires_at = NULL WHERE id = :id"
    ),
    "job_update_payload": (
        "UPDATE jobs SET due_at = :due_at, attempts = :attempts, last_error = :last_error, payload = :payload, "
        "locked_by = NULL, lock_expires_at = NULL WHERE id = :id"
    ),
    "job_hold": (
        "UPDATE jobs SET due_at = :due_at, last_error = :last_error, locked_by = NULL, "
        "lock_expires_at = NULL WHERE id = :id"
    ),
    "job_delete": ("DELETE FROM jobs WHERE id = :id"),
    "subscription_insert": (
        "INSERT INTO subscriptions (id, instance_id, wait, element, kind, message, correlation_key, created_at, "
        "tenant_id) VALUES (:id, :instance_id, :wait, :element, :kind, :message, :correlation_key, :created_at, "
        ":tenant_id)"
    ),
    "subscription_delete": ("DELETE FROM subscriptions WHERE id = :id"),
    "task_insert": (
        "INSERT INTO user_tasks (id, instance_id, wait, element, name, assignee, candidate_groups, form, "
        "payload, status, created_at, ended_at, ended_by, tenant_id, process_key, candidate_users, description, "
        "priority, due_at, follow_up_at) VALUES (:id, :instance_id, :wait, :element, :name, :assignee, "
        ":candidate_groups, :form, :payload, :status, :created_at, :ended_at, :ended_by, :tenant_id, :process_key, "
        ":candidate_users, :description, :priority, :due_at, :follow_up_at)"
    ),
    "candidate_insert": "INSERT INTO task_candidates (kind, name, task_id) VALUES (:kind, :name, :task_id)",
    "candidate_delete": "DELETE FROM task_candidates WHERE task_id = :id",
    "task_update": (
        "UPDATE user_tasks SET status = :status, ended_at = :ended_at, ended_by = :ended_by WHERE id = :id"
    ),
    "incident_insert": (
        "INSERT INTO incidents (instance_id, wait, element, error_type, message, details, status, created_at, "
        "resolved_at, resolved_by, tenant_id) VALUES (:instance_id, :wait, :element, :error_type, :message, "
        ":details, :status, :created_at, :resolved_at, :resolved_by, :tenant_id)"
    ),
    "incident_update": (
        "UPDATE incidents SET status = 'resolved', resolved_at = :resolved_at, resolved_by = :resolved_by "
        "WHERE instance_id = :instance_id AND wait = :wait AND status = 'open'"
    ),
    # a migration moved waits to another version's elements (fx.MoveWait): the rows learn them
    "move_job": "UPDATE jobs SET element = :element, task_type = COALESCE(:task_type, task_type) WHERE id = :id",
    "move_subscription": (
        "UPDATE subscriptions SET element = :element, message = COALESCE(:message, message) WHERE id = :id"
    ),
    "move_task": "UPDATE user_tasks SET element = :element WHERE id = :id",
    "move_incident": (
        "UPDATE incidents SET element = :element WHERE instance_id = :instance_id AND wait = :wait AND status = 'open'"
    ),
    "history_insert": (
        "INSERT INTO history (instance_id, seq, at, type, element, actor, data, tenant_id, definition_id) "
        "VALUES (:instance_id, :seq, :at, :type, :element, :actor, :data, :tenant_id, :definition_id)"
    ),
    "change_insert": (
        "INSERT INTO changes (at, kind, instance_id, process_key, element, ref, status) "
        "VALUES (:at, :kind, :instance_id, :process_key, :element, :ref, :status)"
    ),
}


def change_rows(instance_id: str, process: str | None, effects: list[fx.Effect], now: float) -> list[dict[str, Any]]:
    """The rows of the change feed one step writes: what a live screen must redraw.

    One `instance_advanced` per step that recorded anything, plus one row per task
    opened or closed, incident raised or resolved, and the start and end of the instance.
    """
    rows: list[dict[str, Any]] = []

    def row(kind: str, element: str | None = None, ref: str | None = None, status: str | None = None) -> None:
        rows.append(
            {
                "at": now,
                "kind": kind,
                "instance_id": instance_id,
                "process_key": process,
                "element": element,
                "ref": ref,
                "status": status,
            }
        )

    advanced = False
    for effect in effects:
        if isinstance(effect, fx.Record):
            if effect.type == "instance_started":
                row("instance_started")
            else:
                advanced = True
        elif isinstance(effect, fx.OpenUserTask):
            row("task_opened", effect.element, wait_key(instance_id, effect.wait))
        elif isinstance(effect, fx.CloseUserTask):
            row("task_closed", None, wait_key(instance_id, effect.wait), effect.outcome)
        elif isinstance(effect, fx.CreateIncident):
            row("incident_created", effect.element, None, effect.error_type)
        elif isinstance(effect, fx.ResolveIncident):
            row("incident_resolved")
        elif isinstance(effect, fx.InstanceEnded):
            row("instance_ended", None, None, effect.status)
    if advanced:
        row("instance_advanced")
    return rows


TASK_CHANGEABLE = frozenset(
    {
        "assignee",
        "owner",
        "delegation",
        "draft",
        "updated_at",
        "due_at",
        "follow_up_at",
        "priority",
        "name",
        "description",
    }
)
"""The columns of an open task that people's actions change (fx.UpdateUserTask)."""


def candidate_rows(task_id: str, users: tuple[str, ...], groups: tuple[str, ...]) -> list[dict[str, Any]]:
    """The `task_candidates` rows of a task: its candidate users and groups, lower case as
    user and group ids are, each once."""
    rows = []
    for kind, names in (("user", users), ("group", groups)):
        for name in sorted({n.strip().lower() for n in names if n.strip()}):
            rows.append({"kind": kind, "name": name, "task_id": task_id})
    return rows


def wait_key(instance_id: str, wait: int) -> str:
    """The id of the job, task or subscription of a wait: also the idempotency key."""
    return f"{instance_id}:{wait}"


@dataclass(slots=True)
class Handoff:
    """A job created already locked by the local worker, to run without a claim round-trip."""

    id: str
    instance_id: str
    wait: int
    element: str
    task_type: str
    payload: dict[str, Any] | None
    timeout: float | None
    lock_expires_at: float
    tenant: str | None = None
    traceparent: str | None = None  # of the instance's start span: the job's span joins its trace
    process: str | None = None


ClaimNew = Callable[[fx.ScheduleJob], tuple[str, float] | None]


@dataclass
class Writer:
    now: datetime
    claim_new: ClaimNew | None = None
    job_inserts: dict[str, dict[str, Any]] = field(default_factory=dict)
    job_updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    job_deletes: set[str] = field(default_factory=set)
    subscription_inserts: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscription_deletes: set[str] = field(default_factory=set)
    task_inserts: dict[str, dict[str, Any]] = field(default_factory=dict)
    task_updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    task_changes: dict[str, dict[str, Any]] = field(default_factory=dict)  # people's actions: task_actions.py
    candidate_inserts: list[dict[str, Any]] = field(default_factory=list)
    incident_inserts: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    incident_updates: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)  # waits a migration moved (fx.MoveWait)
    changes: list[dict[str, Any]] = field(default_factory=list)  # the feed of GET /events (changes.py)
    handoffs: list[Handoff] = field(default_factory=list)
    # delivered after a flush: (signal, variables, the instance that caught it already, if any,
    # the thrower's tenant)
    broadcasts: list[tuple[str, dict[str, Any], str | None, str | None]] = field(default_factory=list)
    tenant_of: dict[str, str] = field(default_factory=dict)  # instances of a tenant (absent: the shared one)
    calls: list[tuple[str, fx.Effect]] = field(default_factory=list)  # children to start, cancel, answer: calls.py
    woken: set[str] = field(default_factory=set)  # task types of jobs this batch made free (job_signals.py)
    sealer: Sealer | None = None  # encryption at rest (sealing.py): None, nothing is sealed
    sealings: dict[str, Sealing] = field(default_factory=dict)  # what to seal, per instance
    metrics: Metrics | None = None  # told what the batch did once it commits (legato.telemetry)
    traceparents: dict[str, str] = field(default_factory=dict)  # instance -> its trace (telemetry.tracing)
    # (process, version[, status or element]) -> how many: instances started, ended, incidents raised
    started: dict[tuple[str, int], int] = field(default_factory=dict)
    ended: dict[tuple[str, int, str], int] = field(default_factory=dict)
    incidents: dict[tuple[str, int, str], int] = field(default_factory=dict)

    def _document(self, instance_id: str, value: Any) -> str | None:
        """A JSON document of an instance as stored: sealed whole if it holds a sensitive datum.

        An instance whose sealing is not known here (none was passed to `add`) has every
        document sealed: sealing too much costs a little time, sealing too little leaks.
        """
        if value is None:
            return None
        if self.sealer is None:
            return dumps(value)
        sealing = self.sealings.get(instance_id)
        return self.sealer.seal_document(value) if sealing is None else sealing.document(value)

    def _text(self, instance_id: str, text: str | None) -> str | None:
        if self.sealer is None or not text:
            return text
        sealing = self.sealings.get(instance_id)
        return self.sealer.seal_text(text) if sealing is None else sealing.text(text)

    def add(
        self,
        instance_id: str,
        effects: list[fx.Effect],
        tenant: str | None = None,
        *,
        definition_id: int | None = None,
        process: str | None = None,
        version: int | None = None,
        sealing: Sealing | None = None,
        traceparent: str | None = None,
    ) -> None:
        """Collect the rows for `effects` of an instance in `tenant`, which every row copies;
        `sealing` says what of them to seal (the instance's variables after these effects).
        `process` and `version` label what the metrics count of them; its jobs copy
        `traceparent`, the instance's trace."""
        now = to_epoch(self.now)
        if traceparent is not None:
            self.traceparents[instance_id] = traceparent
        if self.metrics is not None and process is not None and version is not None:
            self._tally(process, version, effects)
        if sealing is not None:
            self.sealings[instance_id] = sealing
        if tenant is not None:
            self.tenant_of[instance_id] = tenant
        self.changes.extend(change_rows(instance_id, process, effects, now))
        for effect in effects:
            if isinstance(effect, fx.Record):
                self.history.append(
                    {
                        "instance_id": instance_id,
                        "seq": effect.seq,
                        "at": to_epoch(effect.at),
                        "type": effect.type,
                        "element": effect.element,
                        "actor": effect.actor,
                        "data": self._document(instance_id, effect.data),
                        "tenant_id": tenant,
                        "definition_id": definition_id,
                    }
                )
            elif isinstance(effect, fx.ScheduleJob):
                self._schedule(instance_id, effect, now, tenant, process)
            elif isinstance(effect, fx.RetryJob | fx.HoldJob):
                key = wait_key(instance_id, effect.wait)
                change = (
                    {
                        "due_at": to_epoch(effect.due),
                        "attempts": effect.attempts,
                        "last_error": self._text(instance_id, effect.error),
                    }
                    if isinstance(effect, fx.RetryJob)
                    else {"due_at": None, "last_error": self._text(instance_id, effect.error)}
                )
                if isinstance(effect, fx.RetryJob) and effect.payload is not None:
                    change = {**change, "payload": self._document(instance_id, effect.payload)}
                if key in self.job_inserts:
                    self.job_inserts[key].update(change, locked_by=None, lock_expires_at=None)
                    self.handoffs = [h for h in self.handoffs if h.id != key]
                else:
                    row = self.job_updates.setdefault(key, {"id": key, "attempts": 0})
                    if "attempts" not in change:
                        change = {**change, "attempts": None}
                    row.update(change)
            elif isinstance(effect, fx.CancelJob):
                key = wait_key(instance_id, effect.wait)
                if self.job_inserts.pop(key, None) is None:
                    self.job_deletes.add(key)
                else:
                    self.handoffs = [h for h in self.handoffs if h.id != key]
                self.job_updates.pop(key, None)
            elif isinstance(effect, fx.Subscribe):
                key = wait_key(instance_id, effect.wait)
                self.subscription_inserts[key] = {
                    "id": key,
                    "instance_id": instance_id,
                    "wait": effect.wait,
                    "element": effect.element,
                    "kind": "message",
                    "message": effect.message,
                    "correlation_key": effect.correlation_key,
                    "created_at": now,
                    "tenant_id": tenant,
                }
            elif isinstance(effect, fx.SubscribeSignal):
                key = wait_key(instance_id, effect.wait)
                self.subscription_inserts[key] = {
                    "id": key,
                    "instance_id": instance_id,
                    "wait": effect.wait,
                    "element": effect.element,
                    "kind": "signal",
                    "message": effect.signal,
                    "correlation_key": None,
                    "created_at": now,
                    "tenant_id": tenant,
                }
            elif isinstance(effect, fx.BroadcastSignal):
                sender = instance_id if effect.delivered_here else None
                self.broadcasts.append((effect.signal, effect.variables, sender, tenant))
            elif isinstance(effect, fx.StartChild | fx.CancelChild | fx.ReturnToCaller | fx.EscalateToCaller):
                self.calls.append((instance_id, effect))
            elif isinstance(effect, fx.Unsubscribe):
                key = wait_key(instance_id, effect.wait)
                if self.subscription_inserts.pop(key, None) is None:
                    self.subscription_deletes.add(key)
            elif isinstance(effect, fx.OpenUserTask):
                key = wait_key(instance_id, effect.wait)
                self.task_inserts[key] = {
                    "id": key,
                    "instance_id": instance_id,
                    "wait": effect.wait,
                    "element": effect.element,
                    "name": effect.name,
                    "assignee": effect.assignee,
                    "candidate_groups": dumps(list(effect.candidate_groups)),
                    "form": None if effect.form is None else dumps(effect.form),
                    "payload": self._document(instance_id, effect.payload),
                    "status": "open",
                    "created_at": now,
                    "ended_at": None,
                    "ended_by": None,
                    "tenant_id": tenant,
                    "process_key": process,
                    "candidate_users": dumps(list(effect.candidate_users)),
                    "description": effect.description,
                    "priority": effect.priority,
                    "due_at": None if effect.due is None else to_epoch(effect.due),
                    "follow_up_at": None if effect.follow_up is None else to_epoch(effect.follow_up),
                }
                self.candidate_inserts.extend(candidate_rows(key, effect.candidate_users, effect.candidate_groups))
            elif isinstance(effect, fx.UpdateUserTask):
                key = wait_key(instance_id, effect.wait)
                change = {**effect.changes, "updated_at": now}
                target = self.task_inserts.get(key)
                if target is not None:
                    target.update({k: v for k, v in change.items() if k != "updated_at"})
                else:
                    self.task_changes.setdefault(key, {"id": key}).update(change)
            elif isinstance(effect, fx.CloseUserTask):
                key = wait_key(instance_id, effect.wait)
                change = {"status": effect.outcome, "ended_at": now, "ended_by": effect.actor}
                target = self.task_inserts.get(key)
                if target is not None:
                    target.update(change)
                else:
                    self.task_updates[key] = {"id": key, **change}
            elif isinstance(effect, fx.CreateIncident):
                self.incident_inserts[(instance_id, effect.wait)] = {
                    "instance_id": instance_id,
                    "wait": effect.wait,
                    "element": effect.element,
                    "error_type": effect.error_type,
                    "message": self._text(instance_id, effect.message[:4000]),
                    "details": self._text(instance_id, effect.details[:20000] if effect.details else None),
                    "status": "open",
                    "created_at": now,
                    "resolved_at": None,
                    "resolved_by": None,
                    "tenant_id": tenant,
                }
            elif isinstance(effect, fx.ResolveIncident):
                change = {"status": "resolved", "resolved_at": now, "resolved_by": effect.actor}
                pending = self.incident_inserts.get((instance_id, effect.wait))
                if pending is not None and pending["status"] == "open":
                    pending.update(change)
                else:
                    self.incident_updates.append(
                        {
                            "instance_id": instance_id,
                            "wait": effect.wait,
                            "resolved_at": now,
                            "resolved_by": effect.actor,
                        }
                    )
            elif isinstance(effect, fx.MoveWait):
                self.moves.append(
                    {
                        "id": wait_key(instance_id, effect.wait),
                        "instance_id": instance_id,
                        "wait": effect.wait,
                        "element": effect.element,
                        "task_type": effect.task_type,
                        "message": effect.message,
                    }
                )
            # InstanceEnded needs no row of its own: the engine closed every wait already,
            # and the instance row carries the status.

    def _tally(self, process: str, version: int, effects: list[fx.Effect]) -> None:
        for effect in effects:
            if isinstance(effect, fx.Record) and effect.type == "instance_started":
                self.started[process, version] = self.started.get((process, version), 0) + 1
            elif isinstance(effect, fx.InstanceEnded):
                key = (process, version, effect.status)
                self.ended[key] = self.ended.get(key, 0) + 1
            elif isinstance(effect, fx.CreateIncident):
                key = (process, version, effect.element)
                self.incidents[key] = self.incidents.get(key, 0) + 1

    def _schedule(
        self, instance_id: str, effect: fx.ScheduleJob, now: float, tenant: str | None, process: str | None
    ) -> None:
        traceparent = self.traceparents.get(instance_id)
        key = wait_key(instance_id, effect.wait)
        lock = self.claim_new(effect) if self.claim_new is not None and effect.task_type else None
        self.job_inserts[key] = {
            "id": key,
            "instance_id": instance_id,
            "wait": effect.wait,
            "kind": "task" if effect.task_type else "timer",
            "element": effect.element,
            "task_type": effect.task_type,
            "due_at": to_epoch(effect.due),
            "attempts": 1 if lock else 0,
            "timeout": effect.timeout,
            "payload": self._document(instance_id, effect.payload),
            "locked_by": lock[0] if lock else None,
            "lock_expires_at": lock[1] if lock else None,
            "last_error": None,
            "created_at": now,
            "tenant_id": tenant,
            "traceparent": traceparent,
            "process_key": process,
        }
        if lock is not None:
            assert effect.task_type is not None
            self.handoffs.append(
                Handoff(
                    id=key,
                    instance_id=instance_id,
                    wait=effect.wait,
                    element=effect.element,
                    task_type=effect.task_type,
                    payload=effect.payload,
                    timeout=effect.timeout,
                    lock_expires_at=lock[1],
                    tenant=tenant,
                    traceparent=traceparent,
                    process=process,
                )
            )

    def flush(self, conn: Connection) -> None:
        """Write everything collected so far and start empty (keeps `handoffs`)."""
        run = _executemany(conn)
        for row in self.job_inserts.values():
            if row["kind"] == "task" and row["locked_by"] is None:
                self.woken.add(row["task_type"])
        if any(r.get("attempts") is not None for r in self.job_updates.values()):
            self.woken.add("*")  # a retry (its type is not at hand): every waiter looks again
        # deletes -> updates -> inserts: after coalescing, updates and deletes touch only rows
        # that existed before the batch, inserts only new ids; an incident resolved and then
        # raised again on the same wait must be resolved before the new one is inserted.
        run("job_delete", [{"id": k} for k in self.job_deletes])
        run("subscription_delete", [{"id": k} for k in self.subscription_deletes])
        held = [r for r in self.job_updates.values() if r.get("attempts") is None]
        run("job_hold", [{"id": r["id"], "due_at": r["due_at"], "last_error": r["last_error"]} for r in held])
        updated = [r for r in self.job_updates.values() if r.get("attempts") is not None]
        run("job_update", [r for r in updated if "payload" not in r])
        run("job_update_payload", [r for r in updated if "payload" in r])
        run("task_update", list(self.task_updates.values()))
        run("candidate_delete", [{"id": k} for k in self.task_updates])
        for row in self.task_changes.values():
            columns = sorted(k for k in row if k != "id")
            assert all(column in TASK_CHANGEABLE for column in columns), columns
            sets = ", ".join(f"{column} = :{column}" for column in columns)
            execute_many(conn, f"UPDATE user_tasks SET {sets} WHERE id = :id AND status = 'open'", [row])
        run("incident_update", self.incident_updates)
        if self.moves:
            jobs = [{"id": m["id"], "element": m["element"], "task_type": m["task_type"]} for m in self.moves]
            run("move_job", jobs)
            run(
                "move_subscription",
                [{"id": m["id"], "element": m["element"], "message": m["message"]} for m in self.moves],
            )
            run("move_task", [{"id": m["id"], "element": m["element"]} for m in self.moves])
            run(
                "move_incident",
                [{"instance_id": m["instance_id"], "wait": m["wait"], "element": m["element"]} for m in self.moves],
            )
            self.woken.update(m["task_type"] for m in self.moves if m["task_type"])
        run("job_insert", list(self.job_inserts.values()))
        run("subscription_insert", list(self.subscription_inserts.values()))
        run("task_insert", list(self.task_inserts.values()))
        run("candidate_insert", self.candidate_inserts)
        run("incident_insert", list(self.incident_inserts.values()))
        run("history_insert", self.history)
        run("change_insert", self.changes)
        if self.metrics is not None and (self.started or self.ended or self.incidents):
            # counted once the transaction commits: a rolled back batch did nothing
            metrics, counts = self.metrics, (self.started, self.ended, self.incidents)
            Database.after_commit(conn, lambda: metrics.instances(*counts))
            self.started, self.ended, self.incidents = {}, {}, {}
        for collection in (
            self.job_deletes,
            self.subscription_deletes,
            self.job_inserts,
            self.subscription_inserts,
            self.task_inserts,
            self.incident_inserts,
            self.job_updates,
            self.task_updates,
            self.task_changes,
        ):
            collection.clear()
        self.candidate_inserts.clear()
        self.incident_updates.clear()
        self.moves.clear()
        self.history.clear()
        self.changes.clear()


def _executemany(conn: Connection) -> Callable[[str, list[dict[str, Any]]], None]:
    def run(name: str, rows: list[dict[str, Any]]) -> None:
        execute_many(conn, _SQL[name], rows)

    return run
