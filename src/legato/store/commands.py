"""The command executor: load instances, run the engine, write state and effects at once.

Every change to an instance goes through here, in one transaction with its effects
(DESIGN.md, "the transaction model"). Batches are the normal case: the job executor hands
in hundreds of completions, and they share one commit. Commands for the same instance in
one batch apply in order, each to the state the previous one left, and the instance row
is written once.

Concurrency: on SQLite a write transaction holds the database's single write lock
(BEGIN IMMEDIATE); on PostgreSQL the instance rows are locked `FOR UPDATE`. The version
column is still checked on every update, so a lost race can never overwrite silently.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import text
from sqlalchemy.engine import Connection

from legato import engine
from legato.engine import effects as fx
from legato.engine.commands import Command, CorrelateMessage, FailJob, MigrateInstance, TriggerSignal
from legato.engine.state import InstanceState
from legato.errors import (
    ConcurrentModification,
    DefinitionNotExecutable,
    EvaluationError,
    IdempotencyConflict,
    InstanceNotFound,
    LegatoError,
    MessageNotCorrelated,
    StaleCommand,
)
from legato.model.sensitive import SensitiveNames
from legato.store.codec import dumps, to_epoch
from legato.store.database import Database
from legato.store.definitions import Definitions, StoredDefinition
from legato.store.ids import new_instance_id
from legato.store.job_signals import JobSignals
from legato.store.sealing import KEYLESS, Sealer, Sealing
from legato.store.sql import execute_many, fetch
from legato.store.tenants import Visible, visible_clause
from legato.store.writer import ClaimNew, Handoff, Writer
from legato.telemetry import Metrics, tracing

if TYPE_CHECKING:
    from legato.store.calls import CallDelivery


LatestKey = tuple[str, int | None, str | None, bool]
"""A cache of the definitions one batch of starts resolved: (key, version, tenant, exact tenant)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StartRequest:
    process: str
    variables: dict[str, Any] = field(default_factory=dict)
    business_key: str | None = None
    idempotency_key: str | None = None
    version: int | None = None
    actor: str | None = None
    start_event: str | None = None
    tenant: str | None = None
    """The tenant to start in (None: the shared one): the process is looked up there first,
    then among the shared processes, and the instance belongs to this tenant either way."""
    exact_tenant: bool = False
    """Look the process up in `tenant` only, never among the shared ones (a call activity's
    fixed tenant, Camunda's `calledElementTenantId`)."""
    traceparent: str | None = None
    """The W3C traceparent the instance's trace continues (a caller's); None: the current span's,
    if any (legato.telemetry.tracing). A call activity's child continues its caller's trace."""
    definition_id: int | None = None
    """The exact definition (an event start found it already); `process` and `version` then
    only describe it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Started:
    instance_id: str
    process: str
    version: int
    status: str
    created: bool
    tenant: str | None = None
    jobs: tuple[tuple[str, str], ...] = ()
    """(element, task type) of the service jobs the start created: what a worker must serve."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CommandItem:
    """A command for an instance, guarded by `job`: it applies only while `worker` holds
    the job and the job is still at `attempt` (a late result of an attempt that already
    timed out, or whose lock passed to another worker, is stale)."""

    instance_id: str
    command: Command
    job: str | None = None
    worker: str | None = None
    attempt: int | None = None
    within_lock: bool = False
    """Refuse the command once the job's lock has expired, even if nobody took the job over
    yet (external workers: their lock is their promise; in-process results keep theirs)."""


@dataclass(slots=True)
class Outcome:
    ok: bool
    status: str | None = None
    error: LegatoError | None = None
    retry_at: datetime | None = None  # a failed job attempt that will run again then
    incident: bool = False  # a failed job attempt that opened an incident


@dataclass(slots=True)
class _Loaded:
    definition_id: int
    version: int
    state: InstanceState
    dirty: bool = False
    created_at: float | None = None
    insert: dict[str, Any] | None = None
    tenant: str | None = None
    traceparent: str | None = None


_SELECT_INSTANCES = (
    "SELECT id, definition_id, state, variables, version, tenant_id, traceparent FROM instances WHERE id IN_LIST(:ids)"
)
_SELECT_OWNED_JOBS = "SELECT id, locked_by, attempts, lock_expires_at FROM jobs WHERE id IN_LIST(:ids)"
_UPDATE_INSTANCE = (
    "UPDATE instances SET state = :state, variables = :variables, status = :status, version = :new_version, "
    "updated_at = :now, ended_at = :ended_at, definition_id = :definition_id WHERE id = :id AND version = :version"
)
_INSERT_INSTANCE = (
    "INSERT INTO instances (id, definition_id, process_key, business_key, status, state, variables, version, "
    "created_at, updated_at, ended_at, idempotency_key, request_hash, parent_id, parent_wait, tenant_id, traceparent) "
    "VALUES (:id, :definition_id, :process_key, :business_key, :status, :state, :variables, 1, :now, :now, "
    ":ended_at, :idempotency_key, :request_hash, :parent_id, :parent_wait, :tenant_id, :traceparent)"
)


MAX_SIGNAL_ROUNDS = 20


class Executor:
    def __init__(self, database: Database, definitions: Definitions, signals: JobSignals | None = None) -> None:
        self.database = database
        self.definitions = definitions
        self.signals = signals  # told of the jobs each transaction makes free (external workers wait for them)
        # Encryption at rest (sealing.py), set by the Store: what seals, and each definition's sensitive names.
        self.sealer: Sealer | None = None
        self.names_of: Callable[[int], SensitiveNames] = lambda _definition_id: SensitiveNames()
        self.metrics = Metrics(enabled=False)  # the Store's, set by the Store (legato.telemetry)

    def _sealing(self, definition_id: int, *variables: Mapping[str, Any]) -> Sealing | None:
        """What to seal in an instance's rows (None: encryption at rest is off)."""
        if self.sealer is None:
            return None
        return self.sealer.for_instance(self.names_of(definition_id), *variables)

    def _stored(self, state: InstanceState, sealing: Sealing | None) -> tuple[str, str]:
        """An instance's state and variables as the row holds them."""
        if sealing is None:
            return dumps(state.to_dict()), dumps(state.variables)
        return dumps(sealing.state(state.to_dict())), dumps(sealing.variables(state.variables))

    def _loads(self, text: str | bytes) -> Any:
        return (self.sealer or KEYLESS).loads(text)

    # -- starting ------------------------------------------------------------------------

    def start(
        self, requests: Sequence[StartRequest], now: datetime, claim_new: ClaimNew | None = None
    ) -> tuple[list[Started], list[Handoff]]:
        """Start instances in one transaction; a known idempotency key returns its instance."""
        writer = Writer(now=now, claim_new=claim_new, sealer=self.sealer, metrics=self.metrics)
        results: list[Started] = []
        with self.database.write() as conn:
            rows: list[dict[str, Any]] = []
            latest: dict[LatestKey, StoredDefinition] = {}
            for request in requests:
                results.append(self.start_within(conn, request, now, writer, rows, latest))
            self.insert_instances(conn, rows)
            self.finish(conn, writer, now)
        return results, writer.handoffs

    def start_within(
        self,
        conn: Connection,
        request: StartRequest,
        now: datetime,
        writer: Writer,
        rows: list[dict[str, Any]] | None = None,
        latest: dict[LatestKey, StoredDefinition] | None = None,
        caller: tuple[str, int] | None = None,
    ) -> Started:
        """Start one instance inside the caller's transaction, its effects into `writer`.

        With `rows`, the new instance row joins a batch that `insert_instances` writes in
        one statement; without, it is written at once. `caller` is the instance and wait of
        the call activity that calls it (store/calls.py), which the row and its state both
        remember.
        """
        if rows is None:
            batch: list[dict[str, Any]] = []
            started = self.start_within(conn, request, now, writer, batch, latest, caller)
            self.insert_instances(conn, batch)
            return started
        request_hash = None
        if request.idempotency_key is not None:
            request_hash = hashlib.sha256(
                orjson.dumps(
                    [request.process, request.version, request.business_key, request.variables]
                    + ([request.tenant] if request.tenant is not None else []),
                    option=orjson.OPT_SORT_KEYS,
                )
            ).hexdigest()
            replay = self._replay(conn, request.idempotency_key, request_hash, rows, request.tenant)
            if replay is not None:
                return replay
        cache = {} if latest is None else latest
        wanted = (request.process, request.version, request.tenant, request.exact_tenant)
        stored = (
            cache.get(wanted) if request.definition_id is None else self.definitions.by_id(request.definition_id, conn)
        )
        if stored is None:
            stored = cache[wanted] = self.definitions.latest(
                request.process, conn, request.version, request.tenant, exact=request.exact_tenant
            )
        if stored.model.not_executable:
            reasons = list(stored.model.not_executable)
            raise DefinitionNotExecutable(
                f"process {stored.key!r} version {stored.version} is stored for viewing and export, but cannot run: "
                + "; ".join(reasons[:5]),
                details={"process": stored.key, "version": stored.version, "reasons": reasons},
            )
        instance_id = new_instance_id()
        parent = request.traceparent or (writer.traceparents.get(caller[0]) if caller is not None else None)
        attributes = {
            "legato.process": stored.key,
            "legato.version": stored.version,
            "legato.instance_id": instance_id,
            "legato.business_key": request.business_key,
        }
        with tracing.span(f"start {stored.key}", parent=parent, attributes=attributes) as started_span:
            result = engine.start(
                stored.model,
                instance_id=instance_id,
                variables=request.variables,
                now=now,
                actor=request.actor,
                start_event=request.start_event,
                caller=caller,
            )
        traceparent = tracing.traceparent_of(started_span)
        state = result.state
        sealing = self._sealing(stored.id, state.variables)
        writer.add(
            instance_id,
            result.effects,
            request.tenant,
            definition_id=stored.id,
            process=stored.key,
            version=stored.version,
            sealing=sealing,
            traceparent=traceparent,
        )
        stored_state, stored_variables = self._stored(state, sealing)
        rows.append(
            {
                "id": instance_id,
                "definition_id": stored.id,
                "process_key": stored.key,
                "business_key": request.business_key,
                "status": state.status,
                "state": stored_state,
                "variables": stored_variables,
                "now": to_epoch(now),
                "ended_at": None if state.status == "active" else to_epoch(now),
                "idempotency_key": request.idempotency_key,
                "request_hash": request_hash,
                "parent_id": None if caller is None else caller[0],
                "parent_wait": None if caller is None else caller[1],
                "tenant_id": request.tenant,
                "traceparent": traceparent,
            }
        )
        return Started(
            instance_id=instance_id,
            process=stored.key,
            version=stored.version,
            status=state.status,
            created=True,
            tenant=request.tenant,
            jobs=tuple(
                (effect.element, effect.task_type)
                for effect in result.effects
                if isinstance(effect, fx.ScheduleJob) and effect.task_type is not None
            ),
        )

    def insert_instances(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Write the instance rows a batch of `start_within` calls collected."""
        execute_many(conn, _INSERT_INSTANCE, rows)

    def _replay(
        self, conn: Connection, key: str, request_hash: str, rows: list[dict[str, Any]], tenant: str | None
    ) -> Started | None:
        """The instance an idempotency key already started (in this batch or before), or None.

        The same key with the same request returns that instance; with another request it
        is a conflict, since the caller would otherwise believe a different start happened.
        """
        pending = next((r for r in rows if r["idempotency_key"] == key), None)
        if pending is not None:
            instance_id, known_hash, status = pending["id"], pending["request_hash"], pending["status"]
            process, known_tenant = pending["process_key"], pending["tenant_id"]
            version = self.definitions.by_id(pending["definition_id"], conn).version
        else:
            found = fetch(
                conn,
                "SELECT i.id, i.request_hash, i.status, d.key, d.version, i.tenant_id FROM instances i "
                "JOIN definitions d ON d.id = i.definition_id WHERE i.idempotency_key = :key",
                {"key": key},
            )
            if not found:
                return None
            instance_id, known_hash, status, process, version, known_tenant = found[0]
        if known_tenant != tenant:  # keys are unique across tenants: say so, but never whose it is
            raise IdempotencyConflict(
                f"idempotency key {key!r} was already used for another start: choose another key",
                details={"idempotency_key": key},
            )
        if known_hash != request_hash:
            raise IdempotencyConflict(
                f"idempotency key {key!r} was already used to start instance {instance_id} with different data",
                details={"instance_id": instance_id},
            )
        return Started(
            instance_id=instance_id, process=process, version=version, status=status, created=False, tenant=tenant
        )

    # -- commands ------------------------------------------------------------------------

    def apply(
        self, items: Sequence[CommandItem], now: datetime, claim_new: ClaimNew | None = None
    ) -> tuple[list[Outcome], list[Handoff]]:
        """Apply commands in one transaction. Stale commands are skipped, not fatal."""
        writer = Writer(now=now, claim_new=claim_new, sealer=self.sealer, metrics=self.metrics)
        with self.database.write() as conn:
            outcomes = self._apply(conn, items, now, writer)
            self.finish(conn, writer, now)
        return outcomes, writer.handoffs

    def apply_decided(
        self,
        instance_id: str,
        decide: Callable[[Connection], Command],
        now: datetime,
        claim_new: ClaimNew | None = None,
    ) -> tuple[Outcome, list[Handoff]]:
        """Lock one instance, let `decide` read what it needs and choose the command, apply it.

        For commands whose admissibility depends on rows beside the instance (a user task's
        assignee: store/task_actions.py): `decide` runs after the instance row is locked
        (SQLite's write lock, PostgreSQL's FOR UPDATE), so no other command on the instance
        can change what it read before this one commits. What `decide` raises, or an error
        of the command, rolls back everything, rows `decide` wrote included.
        """
        writer = Writer(now=now, claim_new=claim_new, sealer=self.sealer, metrics=self.metrics)
        with self.database.write() as conn:
            loaded = self._load(conn, [instance_id])
            if instance_id not in loaded:
                raise InstanceNotFound(f"no instance {instance_id}", details={"instance_id": instance_id})
            command = decide(conn)
            outcome = self._apply_one(CommandItem(instance_id=instance_id, command=command), loaded, {}, now, writer)
            if not outcome.ok:
                assert outcome.error is not None
                raise outcome.error
            self._save(conn, loaded, now)
            self.finish(conn, writer, now)
        return outcome, writer.handoffs

    def _apply(self, conn: Connection, items: Sequence[CommandItem], now: datetime, writer: Writer) -> list[Outcome]:
        ids = sorted({item.instance_id for item in items})  # sorted: lock order, no deadlocks
        loaded = self._load(conn, ids)
        owned = self._owned_jobs(conn, [item.job for item in items if item.job])
        # Commands for one instance apply in order, each to the state the previous left;
        # the writer coalesces their effects per row, so one flush at the end is right.
        outcomes = [self._apply_one(item, loaded, owned, now, writer) for item in items]
        self._save(conn, loaded, now)
        return outcomes

    def _apply_one(
        self,
        item: CommandItem,
        loaded: dict[str, _Loaded],
        owned: dict[str, tuple[str | None, int, float | None]],
        now: datetime,
        writer: Writer,
    ) -> Outcome:
        current = loaded.get(item.instance_id)
        if current is None:
            return Outcome(ok=False, error=InstanceNotFound(f"no instance {item.instance_id}"))
        if item.job is not None:
            holder, attempts, expires = owned.get(item.job, (None, -1, None))
            if holder != item.worker or (item.attempt is not None and attempts != item.attempt):
                return Outcome(
                    ok=False,
                    error=StaleCommand(f"job {item.job} attempt {item.attempt} is no longer held by {item.worker}"),
                )
            if item.within_lock and (expires is None or expires < to_epoch(now)):
                return Outcome(ok=False, error=StaleCommand(f"the lock of job {item.job} has expired"))
        definition = self.definitions.by_id(current.definition_id)
        command = item.command
        if isinstance(command, MigrateInstance) and current.definition_id != command.source_id:
            error = StaleCommand(f"instance {item.instance_id} is no longer on version {command.plan.from_version}")
            return Outcome(ok=False, status=current.state.status, error=error)
        wait = current.state.waits.get(getattr(item.command, "wait", -1))
        began = time.perf_counter()
        try:
            result = engine.apply(definition.model, current.state, command, now)
        except LegatoError as exc:
            return Outcome(ok=False, status=current.state.status, error=exc)
        self.metrics.step(definition.key, wait.element if wait is not None else "", time.perf_counter() - began)
        if isinstance(command, MigrateInstance):
            # from here on the instance runs on the target version: its row, history and sealing say so
            definition = self.definitions.by_id(command.target_id)
            current.definition_id = definition.id
        sealing = self._sealing(definition.id, current.state.variables, result.state.variables)
        current.state = result.state
        current.dirty = True
        writer.add(
            item.instance_id,
            result.effects,
            current.tenant,
            definition_id=definition.id,
            process=definition.key,
            version=definition.version,
            sealing=sealing,
            traceparent=current.traceparent,
        )
        if item.job is not None:
            owned[item.job] = (None, -1, None)  # a second result for the same job in this batch is stale
        if isinstance(item.command, FailJob):  # what became of the failure, for the worker's log
            retry_at = next((e.due for e in result.effects if isinstance(e, fx.RetryJob)), None)
            incident = any(isinstance(e, fx.CreateIncident) for e in result.effects)
            return Outcome(ok=True, status=result.state.status, retry_at=retry_at, incident=incident)
        return Outcome(ok=True, status=result.state.status)

    def _load(self, conn: Connection, ids: list[str]) -> dict[str, _Loaded]:
        if not ids:
            return {}
        query = _SELECT_INSTANCES if self.database.is_sqlite else _SELECT_INSTANCES + " FOR UPDATE"
        loaded = {}
        rows = fetch(conn, query, {"ids": ids}, lists=["ids"])
        for instance_id, definition_id, state, variables, version, tenant, traceparent in rows:
            loaded[instance_id] = _Loaded(
                definition_id=definition_id,
                version=version,
                state=InstanceState.from_dict(self._loads(state), self._loads(variables)),
                tenant=tenant,
                traceparent=traceparent,
            )
        return loaded

    def peek(self, ids: Sequence[str]) -> dict[str, InstanceState]:
        """The stored states of some instances, read without a lock (a preview changes nothing)."""
        if not ids:
            return {}
        with self.database.read() as conn:
            rows = fetch(conn, _SELECT_INSTANCES, {"ids": list(ids)}, lists=["ids"])
        return {
            instance_id: InstanceState.from_dict(self._loads(state), self._loads(variables))
            for instance_id, _definition, state, variables, _version, _tenant, _trace in rows
        }

    def _owned_jobs(self, conn: Connection, job_ids: list[str]) -> dict[str, tuple[str | None, int, float | None]]:
        if not job_ids:
            return {}
        rows = fetch(conn, _SELECT_OWNED_JOBS, {"ids": job_ids}, lists=["ids"])
        return {job_id: (holder, attempts, expires) for job_id, holder, attempts, expires in rows}

    def _save(self, conn: Connection, loaded: dict[str, _Loaded], now: datetime) -> None:
        rows = []
        epoch = to_epoch(now)
        for instance_id, current in loaded.items():
            if not current.dirty:
                continue
            state = current.state
            stored_state, stored_variables = self._stored(state, self._sealing(current.definition_id, state.variables))
            rows.append(
                {
                    "id": instance_id,
                    "state": stored_state,
                    "variables": stored_variables,
                    "status": state.status,
                    "version": current.version,
                    "new_version": current.version + 1,
                    "now": epoch,
                    "ended_at": None if state.status == "active" else epoch,
                    "definition_id": current.definition_id,
                }
            )
            current.version += 1
            current.dirty = False
        if not rows:
            return
        updated = execute_many(conn, _UPDATE_INSTANCE, rows)
        if updated not in (-1, len(rows)):
            raise ConcurrentModification(f"{len(rows) - updated} instance(s) changed under this transaction; retry")

    # -- signals -------------------------------------------------------------------------

    def finish(self, conn: Connection, writer: Writer, now: datetime) -> None:
        """Write what the writer holds, then deliver the signals those steps threw.

        A signal reaches every instance waiting for it and starts every process with that
        signal start event (BPMN 2.0, 10.5.5), in this same transaction: the throw and
        its effects commit together or not at all. A signal caught may throw another;
        delivery goes on until no signal is left, up to a bound that stops a loop of
        processes signalling each other. Call activities' children are started, cancelled
        and answered the same way, before the signals (store/calls.py).
        """
        writer.flush(conn)
        rounds = 0
        calls: CallDelivery | None = None
        while writer.broadcasts or writer.calls:
            if writer.calls:
                # Children to start, cancel or answer, in this transaction too: store/calls.py.
                from legato.store.calls import CallDelivery

                calls = calls or CallDelivery(self, conn, now)
                calls.deliver(writer)
                writer.flush(conn)
                continue
            rounds += 1
            if rounds > MAX_SIGNAL_ROUNDS:
                raise EvaluationError(
                    f"signals kept triggering signals for {MAX_SIGNAL_ROUNDS} rounds; is there a signal loop?"
                )
            pending, writer.broadcasts = writer.broadcasts, []
            for signal, variables, sender, tenant in pending:
                # A thrown signal stays in its instance's tenant (and the shared one).
                within = frozenset() if tenant is None else frozenset({tenant})
                self._deliver_signal(conn, signal, variables, now, writer, skip=sender, within=within, origin=tenant)
            writer.flush(conn)
        if writer.woken and self.signals is not None:
            self.signals.announce(conn, writer.woken)
            writer.woken = set()

    def broadcast(
        self,
        *,
        signal: str,
        variables: dict[str, Any],
        now: datetime,
        actor: str | None,
        claim_new: ClaimNew | None = None,
        within: Visible = None,
        origin: str | None = None,
    ) -> tuple[dict[str, Any], list[Handoff]]:
        """Broadcast a signal from outside (the API, the CLI, Python) to the instances and
        processes of the tenants `within` (None: all) and the shared tenant; processes of the
        shared tenant that it starts run in `origin`, the sender's tenant."""
        writer = Writer(now=now, claim_new=claim_new, sealer=self.sealer, metrics=self.metrics)
        with self.database.write() as conn:
            counts = self._deliver_signal(
                conn, signal, variables, now, writer, actor=actor, within=within, origin=origin
            )
            self.finish(conn, writer, now)
        return {"signal": signal, **counts}, writer.handoffs

    def _deliver_signal(
        self,
        conn: Connection,
        signal: str,
        variables: dict[str, Any],
        now: datetime,
        writer: Writer,
        actor: str | None = "signal",
        skip: str | None = None,
        within: Visible = None,
        origin: str | None = None,
    ) -> dict[str, int]:
        """Trigger every waiting signal catch, and start every process with that signal start
        event; `skip` is the instance that threw the signal and caught it itself already.
        Only instances and processes of the tenants `within` (None: all) and the shared
        tenant are reached; a shared process started runs in `origin`."""
        params: dict[str, Any] = {"signal": signal}
        waiting = fetch(
            conn,
            "SELECT instance_id, wait FROM subscriptions WHERE kind = 'signal' AND message = :signal "
            f"AND {visible_clause('tenant_id', within, params)} ORDER BY created_at, id",
            params,
        )
        waiting = [row for row in waiting if row[0] != skip]
        items = [
            CommandItem(
                instance_id=instance_id,
                command=TriggerSignal(wait=wait, signal=signal, variables=variables, actor=actor),
            )
            for instance_id, wait in waiting
        ]
        outcomes = self._apply(conn, items, now, writer) if items else []
        params = {"signal": signal}
        starts = fetch(
            conn,
            "SELECT s.element, d.key, d.version, d.tenant_id, d.id FROM start_events s "
            "JOIN definitions d ON d.id = s.definition_id WHERE s.kind = 'signal' AND s.message = :signal "
            f"AND {visible_clause('d.tenant_id', within, params)} ORDER BY d.key, d.tenant_id",
            params,
        )
        rows: list[dict[str, Any]] = []
        for element, key, version, tenant, definition_id in starts:
            request = StartRequest(
                process=key,
                version=version,
                variables=variables,
                actor=actor,
                start_event=element,
                tenant=tenant or origin,
                definition_id=definition_id,
            )
            self.start_within(conn, request, now, writer, rows)
        self.insert_instances(conn, rows)
        return {"instances": sum(1 for o in outcomes if o.ok), "started": len(rows)}

    # -- conditional start events -----------------------------------------------------------

    def evaluate_conditions(
        self,
        *,
        variables: dict[str, Any],
        now: datetime,
        actor: str | None,
        claim_new: ClaimNew | None = None,
        within: Visible = None,
        origin: str | None = None,
    ) -> tuple[list[Started], list[Handoff]]:
        """Start every process whose conditional start event holds for `variables`.

        BPMN 2.0, 10.5.2: a conditional start event starts its process when its condition
        becomes true; as in Camunda 7, Legato evaluates them when asked (the API's
        `POST /conditions`), against the variables given, and starts each process whose
        condition is true with those variables. A condition that cannot be evaluated
        (a variable it needs is missing) counts as false.
        """
        from legato.engine.expressions import condition
        from legato.errors import ExpressionInvalid

        writer = Writer(now=now, claim_new=claim_new, sealer=self.sealer, metrics=self.metrics)
        started: list[Started] = []
        with self.database.write() as conn:
            params: dict[str, Any] = {}
            candidates = fetch(
                conn,
                "SELECT s.element, s.message, d.key, d.version, d.tenant_id, d.id FROM start_events s "
                "JOIN definitions d ON d.id = s.definition_id WHERE s.kind = 'conditional' "
                f"AND {visible_clause('d.tenant_id', within, params)} ORDER BY d.key, d.tenant_id, s.element",
                params,
            )
            rows: list[dict[str, Any]] = []
            for element, text_condition, key, version, tenant, definition_id in candidates:
                try:
                    holds = condition(text_condition, variables)
                except (EvaluationError, ExpressionInvalid):
                    holds = False
                if holds:
                    request = StartRequest(
                        process=key,
                        version=version,
                        variables=variables,
                        actor=actor,
                        start_event=element,
                        tenant=tenant or origin,
                        definition_id=definition_id,
                    )
                    started.append(self.start_within(conn, request, now, writer, rows))
            self.insert_instances(conn, rows)
            self.finish(conn, writer, now)
        return started, writer.handoffs

    # -- messages ------------------------------------------------------------------------

    def correlate(
        self,
        *,
        message: str,
        correlation_key: str | None,
        variables: dict[str, Any],
        now: datetime,
        actor: str | None,
        claim_new: ClaimNew | None = None,
        within: Visible = None,
        origin: str | None = None,
        business_key: str | None = None,
        process: str | None = None,
        element: str | None = None,
    ) -> tuple[dict[str, Any], list[Handoff]]:
        """Deliver a message to the oldest instance waiting for it, or start one.

        `process` (and `element`) narrow where it may go to that process's instances
        waiting at that element, or its message start event (that one): a message sent
        along a collaboration's message flow (runtime/messages.py) reaches the flow's target.

        `business_key` narrows the waiting instances to the one(s) with that business key
        and is the business key of an instance it starts (Camunda 7's correlation by
        business key, where catch events carry no correlation key of their own).

        Only instances and processes of the tenants `within` (None: all) and of the shared
        tenant are candidates: a tenant's message never reaches another tenant's instance.
        A shared process it starts runs in `origin`, the sender's tenant.

        A message that neither reaches a waiting instance nor a message start event raises
        MessageNotCorrelated: a message is never dropped in silence.
        """
        writer = Writer(now=now, claim_new=claim_new, sealer=self.sealer, metrics=self.metrics)
        with self.database.write() as conn:
            key_clause = "correlation_key IS NULL" if correlation_key is None else "correlation_key = :key"
            lock = "" if self.database.is_sqlite else " FOR UPDATE SKIP LOCKED"
            params: dict[str, Any] = {"message": message, "key": correlation_key}
            if business_key is not None:
                key_clause += " AND instance_id IN (SELECT id FROM instances WHERE business_key = :business_key)"
                params["business_key"] = business_key
            if process is not None:
                key_clause += " AND instance_id IN (SELECT id FROM instances WHERE process_key = :process)"
                params["process"] = process
            if element:
                key_clause += " AND element = :element"
                params["element"] = element
            rows = conn.execute(
                text(
                    f"SELECT id, instance_id, wait FROM subscriptions WHERE kind = 'message' AND message = :message "
                    f"AND {key_clause} AND {visible_clause('tenant_id', within, params)} "
                    f"ORDER BY created_at, id LIMIT 5{lock}"
                ),
                params,
            ).all()
            for row in rows:
                command = CorrelateMessage(wait=row.wait, message=message, variables=variables, actor=actor)
                outcomes = self._apply(conn, [CommandItem(instance_id=row.instance_id, command=command)], now, writer)
                if outcomes[0].ok:
                    self.finish(conn, writer, now)
                    return {"correlated": "instance", "instance_id": row.instance_id}, writer.handoffs
            params = {"message": message}
            target = ""
            if process is not None:
                target += " AND d.key = :process"
                params["process"] = process
            if element:
                target += " AND s.element = :element"
                params["element"] = element
            start = conn.execute(
                text(
                    "SELECT s.element, d.key, d.tenant_id, d.id FROM start_events s JOIN definitions d ON "
                    f"d.id = s.definition_id WHERE s.kind = 'message' AND s.message = :message{target} "
                    f"AND {visible_clause('d.tenant_id', within, params)} "
                    "ORDER BY d.tenant_id IS NULL, d.key LIMIT 1"
                ),
                params,
            ).first()
            if start is None:
                raise MessageNotCorrelated(
                    f"message {message!r}"
                    + (f" with correlation key {correlation_key!r}" if correlation_key is not None else "")
                    + (f" for business key {business_key!r}" if business_key is not None else "")
                    + (f" to {process!r}" + (f" at {element!r}" if element else "") if process is not None else "")
                    + " matches no waiting instance and no message start event",
                    details={"message": message, "correlation_key": correlation_key},
                )
            started = self.start_within(
                conn,
                StartRequest(
                    process=start.key,
                    variables=variables,
                    business_key=correlation_key if business_key is None else business_key,
                    actor=actor,
                    start_event=start.element,
                    tenant=start.tenant_id or origin,
                    definition_id=start.id,
                ),
                now,
                writer,
            )
            self.finish(conn, writer, now)
            return {"correlated": "start", "instance_id": started.instance_id}, writer.handoffs
